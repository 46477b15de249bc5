// Fuzz target for ParseVmStat (plugins/vmstat/vmstat.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves no field; skipped lines (on success or failure) have a reason and
// 1-based numbers, strictly increasing, within the text's line count; every
// field's name lies inside the text, is a valid metric-name tail and is
// unique, and its line is one no skipped line has; a parse into a VmStat
// that held an earlier scrape's data keeps none of it; and the result
// written back as vmstat text parses, with no line skipped, to the same
// fields in the same order.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"
#include "vmstat.hpp"

namespace {

constexpr std::string_view kFile = "/proc/vmstat";

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace vm = sysmetrics::vmstat;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  vm::VmStat v;
  // An earlier scrape's result, which must not survive the parse.
  const std::string stale = "stale 1\n";
  std::string error;
  vm::ParseVmStat(stale, kFile, &v, &error);
  v.skipped.push_back({size + 1, "stale"});
  const bool ok = vm::ParseVmStat(text, kFile, &v, &error);
  sysmetrics::fuzz::CheckSkipped(text, v.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(kFile) + ":"),
               "error does not name the file: '" + error + "'");
    FUZZ_CHECK(v.fields.empty(), "a field is left though the parse failed");
    return 0;
  }
  FUZZ_CHECK(!v.fields.empty(), "success without a field");
  std::set<std::string_view> names;
  std::set<std::size_t> skipped_lines;
  for (const auto& s : v.skipped) skipped_lines.insert(s.line);
  std::string again;
  for (const vm::VmStatField& f : v.fields) {
    FUZZ_CHECK(f.name.data() >= text.data() &&
                   f.name.data() + f.name.size() <= text.data() + text.size(),
               "a name does not lie inside the text");
    FUZZ_CHECK(!f.name.empty(), "an empty name");
    for (const char c : f.name) {
      FUZZ_CHECK(IsNameChar(c), "name '" + std::string(f.name) +
                                    "' is not a metric-name tail");
    }
    FUZZ_CHECK(names.insert(f.name).second,
               "name '" + std::string(f.name) + "' read twice");
    FUZZ_CHECK(skipped_lines.count(f.line) == 0,
               "line " + std::to_string(f.line) + " both read and skipped");
    again += std::string(f.name) + " " + std::to_string(f.value) + "\n";
  }
  vm::VmStat reparsed;
  FUZZ_CHECK(vm::ParseVmStat(again, kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(), "the result written back skips a line");
  FUZZ_CHECK(reparsed.fields.size() == v.fields.size(),
             "the result written back has another field count");
  for (std::size_t i = 0; i < v.fields.size(); ++i) {
    FUZZ_CHECK(reparsed.fields[i].name == v.fields[i].name &&
                   reparsed.fields[i].value == v.fields[i].value,
               "field " + std::string(v.fields[i].name) +
                   " parses differently written back");
  }
  return 0;
}
