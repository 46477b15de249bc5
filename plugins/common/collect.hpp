// Pieces every built-in collector's glue shares: read a /proc file and parse
// it, reporting the lines the parser skipped and failing the collect with
// the right status; and the exclude_pattern option turned into a NameFilter,
// failing create as a configuration error.
// Header-only, plugin side (uses the SDK's C++ layer).
#pragma once

#include <regex>
#include <string>
#include <sysmetrics/plugin.hpp>

#include "name_filter.hpp"
#include "proc_file.hpp"

namespace sysmetrics::plugin {

// Reads file into *buf (reused) and parses it with
// parse(text, path, out, &error), then reports each line the parser skipped
// (out->skipped) to the host through emit (plugin.h, contract 8). Throws
// sysmetrics::Error with SM_ERR_IO when the file cannot be read, or
// SM_ERR_PARSE with the parser's message ("<file>: ...") when nothing in
// it could be read.
template <class Out, class Parse>
void ReadAndParse(ProcFile& file, std::string* buf, Out* out, Parse parse,
                  Emitter& emit) {
  std::string error;
  if (!file.Read(buf, &error)) throw Error(error, SM_ERR_IO);
  const bool ok = parse(*buf, file.path(), out, &error);
  for (const SkippedLine& s : out->skipped) {
    emit.SkipLine(file.path().c_str(), s.line, s.reason.c_str());
  }
  if (!ok) throw Error(error, SM_ERR_PARSE);
}

// The collector's "exclude_pattern" option, compiled once. An invalid
// regular expression fails create with SM_ERR_CONFIG, naming the pattern.
inline NameFilter ExcludeFilter(const Host& host) {
  const std::string pattern = host.String("exclude_pattern");
  try {
    return NameFilter(pattern);
  } catch (const std::regex_error& e) {
    throw Error("exclude_pattern '" + pattern +
                    "' is not a valid regular expression: " + e.what(),
                SM_ERR_CONFIG);
  }
}

}  // namespace sysmetrics::plugin
