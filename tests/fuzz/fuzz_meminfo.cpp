// Fuzz target for ParseMemInfo (plugins/memory/meminfo.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves every value empty; skipped lines (on success or failure) have a
// reason and 1-based numbers, strictly increasing, within the text's line
// count; every value is a whole number of kibibytes in bytes; a parse into
// a MemInfo that held values and skipped lines from an earlier scrape keeps
// none of them; and the result written back as meminfo text parses, with
// no line skipped, to the same result.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"
#include "meminfo.hpp"

namespace sysmetrics::memory {
namespace {

constexpr std::string_view kFile = "/proc/meminfo";

struct Field {
  const char* key;
  std::optional<std::uint64_t> MemInfo::*member;
};

constexpr Field kFields[] = {
    {"MemTotal", &MemInfo::total},         {"MemFree", &MemInfo::free},
    {"MemAvailable", &MemInfo::available}, {"Buffers", &MemInfo::buffers},
    {"Cached", &MemInfo::cached},          {"SwapTotal", &MemInfo::swap_total},
    {"SwapFree", &MemInfo::swap_free},
};

std::string Render(const MemInfo& info) {
  std::string text;
  for (const Field& f : kFields) {
    if (const auto& v = info.*(f.member)) {
      text += std::string(f.key) + ":  " + std::to_string(*v / 1024) + " kB\n";
    }
  }
  return text + "HugePages_Total:       0\n";
}

}  // namespace
}  // namespace sysmetrics::memory

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace mem = sysmetrics::memory;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mem::MemInfo info;
  // Values from an earlier scrape, which must not survive the parse.
  for (const mem::Field& f : mem::kFields) info.*(f.member) = 1;
  info.skipped.push_back({size + 1, "stale"});
  std::string error;
  const bool ok = mem::ParseMemInfo(text, mem::kFile, &info, &error);
  sysmetrics::fuzz::CheckSkipped(text, info.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(mem::kFile) + ":") &&
                   error.size() > mem::kFile.size() + 1,
               "error does not name the file: '" + error + "'");
    for (const mem::Field& f : mem::kFields) {
      FUZZ_CHECK(!(info.*(f.member)),
                 std::string(f.key) + " set though the parse failed");
    }
    return 0;
  }
  bool any = false;
  for (const mem::Field& f : mem::kFields) any = any || (info.*(f.member));
  FUZZ_CHECK(any, "success without a value");
  for (const mem::Field& f : mem::kFields) {
    const auto& v = info.*(f.member);
    FUZZ_CHECK(!v || *v % 1024 == 0,
               std::string(f.key) + " is not a whole number of kB");
    FUZZ_CHECK(!v || text.find(f.key) != std::string_view::npos,
               std::string(f.key) + " set though the text lacks it");
  }
  const std::string again = mem::Render(info);
  mem::MemInfo reparsed;
  FUZZ_CHECK(mem::ParseMemInfo(again, mem::kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(),
             "the result written back skips line " +
                 std::to_string(reparsed.skipped[0].line) + ": " +
                 reparsed.skipped[0].reason);
  for (const mem::Field& f : mem::kFields) {
    FUZZ_CHECK(
        info.*(f.member) == reparsed.*(f.member),
        std::string(f.key) + " parses differently written back:\n" + again);
  }
  return 0;
}
