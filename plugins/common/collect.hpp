// Pieces every built-in collector's glue shares: read a /proc file and parse
// it, reporting the lines the parser skipped and failing the collect with
// the right status; and a regular-expression option (exclude_pattern,
// vmstat's fields) turned into a NameFilter, failing create as a
// configuration error.
// Header-only, plugin side (uses the SDK's C++ layer).
#pragma once

#include <string>
#include <string_view>
#include <sysmetrics/plugin.hpp>

#include "name_filter.hpp"
#include "proc_file.hpp"

namespace sysmetrics::plugin {

// Parses text, read from path, with parse(text, path, out, &error), then
// reports each line the parser skipped (out->skipped) to the host through
// emit (plugin.h, contract 8). Throws sysmetrics::Error with SM_ERR_PARSE
// and the parser's message ("<file>: ...") when nothing in it could be
// read. For a caller that reads the file itself (to take some read failures
// as "absent"); ReadAndParse below does both.
template <class Out, class Parse>
void ParseAndReport(std::string_view text, const std::string& path, Out* out,
                    Parse parse, Emitter& emit) {
  std::string error;
  const bool ok = parse(text, path, out, &error);
  for (const SkippedLine& s : out->skipped) {
    emit.SkipLine(path.c_str(), s.line, s.reason.c_str());
  }
  if (!ok) throw Error(error, SM_ERR_PARSE);
}

// Reads file into *buf (reused) and hands it to ParseAndReport. Throws
// sysmetrics::Error with SM_ERR_IO when the file cannot be read, or as
// ParseAndReport.
template <class Out, class Parse>
void ReadAndParse(ProcFile& file, std::string* buf, Out* out, Parse parse,
                  Emitter& emit) {
  std::string error;
  if (!file.Read(buf, &error)) throw Error(error, SM_ERR_IO);
  ParseAndReport(*buf, file.path(), out, parse, emit);
}

// The collector's string option key, a regular expression, compiled once
// into a NameFilter of the given mode. An invalid regular expression fails
// create with SM_ERR_CONFIG, naming the option and the pattern.
inline NameFilter PatternOption(const Host& host, const char* key,
                                NameFilter::Mode mode) {
  const std::string pattern = host.String(key);
  try {
    return NameFilter(host, pattern, mode);
  } catch (const Error& e) {
    throw Error(std::string(key) + " '" + pattern +
                    "' is not a valid regular expression: " + e.what(),
                SM_ERR_CONFIG);
  }
}

// The collector's "exclude_pattern" option (PatternOption).
inline NameFilter ExcludeFilter(const Host& host) {
  return PatternOption(host, "exclude_pattern",
                       NameFilter::Mode::kDropMatching);
}

}  // namespace sysmetrics::plugin
