// Fuzz target for ParseMemInfo (plugins/memory/meminfo.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves no line read; skipped lines (on success or failure) have a reason
// and 1-based numbers, strictly increasing, within the text's line count;
// every line read has a key of the allowed characters that occurs in the
// text, a line number in order, its row of kMeminfoFields when it has one
// (and by_field pointing back at it), a kB value a whole number of
// kibibytes in bytes, and no key read twice; a parse into a MemInfo that
// held lines from an earlier scrape keeps none of them; and the result
// written back as meminfo text parses, with no line skipped, to the same
// result.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"
#include "meminfo.hpp"

namespace sysmetrics::memory {
namespace {

constexpr std::string_view kFile = "/proc/meminfo";

std::string Render(const MemInfo& info) {
  std::string text;
  for (const MemInfoLine& l : info.lines) {
    text += std::string(l.name) + ":  " +
            std::to_string(l.kib ? l.value / 1024 : l.value) +
            (l.kib ? " kB\n" : "\n");
  }
  return text;
}

bool Same(const MemInfo& a, const MemInfo& b) {
  if (a.lines.size() != b.lines.size()) return false;
  for (std::size_t i = 0; i < a.lines.size(); ++i) {
    const MemInfoLine& x = a.lines[i];
    const MemInfoLine& y = b.lines[i];
    if (x.name != y.name || x.value != y.value || x.kib != y.kib ||
        x.field != y.field) {
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace sysmetrics::memory

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace mem = sysmetrics::memory;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mem::MemInfo info;
  // Lines from an earlier scrape, which must not survive the parse.
  info.lines.push_back({"MemTotal", 1024, true, 0, 1});
  info.by_field[0] = 1;
  info.skipped.push_back({size + 1, "stale"});
  std::string error;
  const bool ok = mem::ParseMemInfo(text, mem::kFile, &info, &error);
  sysmetrics::fuzz::CheckSkipped(text, info.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(mem::kFile) + ":") &&
                   error.size() > mem::kFile.size() + 1,
               "error does not name the file: '" + error + "'");
    FUZZ_CHECK(info.lines.empty(), "a line read though the parse failed");
    for (std::size_t f = 0; f < mem::kNumMeminfoFields; ++f) {
      FUZZ_CHECK(info.Known(f) == nullptr,
                 std::string(mem::kMeminfoFields[f].key) +
                     " set though the parse failed");
    }
    return 0;
  }
  FUZZ_CHECK(!info.lines.empty(), "success without a line");
  std::set<std::string_view> keys;
  for (std::size_t i = 0; i < info.lines.size(); ++i) {
    const mem::MemInfoLine& l = info.lines[i];
    const std::string key(l.name);
    FUZZ_CHECK(!l.name.empty() &&
                   l.name.find_first_not_of(
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789_()") == std::string_view::npos,
               "key '" + key + "' has a character it may not");
    FUZZ_CHECK(text.find(key + ":") != std::string_view::npos,
               key + " read though the text lacks it");
    FUZZ_CHECK(keys.insert(l.name).second, key + " read twice");
    FUZZ_CHECK(i == 0 || info.lines[i - 1].line < l.line,
               key + ": line numbers not ascending");
    FUZZ_CHECK(!l.kib || l.value % 1024 == 0,
               key + " is not a whole number of kB");
    if (l.field != mem::kUnknownField) {
      FUZZ_CHECK(l.field < mem::kNumMeminfoFields &&
                     mem::kMeminfoFields[l.field].key == l.name &&
                     mem::kMeminfoFields[l.field].kib == l.kib,
                 key + " has the wrong row or unit");
      FUZZ_CHECK(info.Known(l.field) == &l, key + ": by_field is wrong");
    } else {
      for (const mem::MeminfoField& f : mem::kMeminfoFields) {
        FUZZ_CHECK(f.key != l.name, key + " is known but has no row");
      }
    }
  }
  const std::string again = mem::Render(info);
  mem::MemInfo reparsed;
  FUZZ_CHECK(mem::ParseMemInfo(again, mem::kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(),
             "the result written back skips line " +
                 std::to_string(reparsed.skipped[0].line) + ": " +
                 reparsed.skipped[0].reason);
  FUZZ_CHECK(mem::Same(info, reparsed),
             "the result written back parses differently:\n" + again);
  return 0;
}
