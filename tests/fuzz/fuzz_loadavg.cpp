// Fuzz target for ParseLoadAvg (plugins/loadavg/loadavg.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and line
// 1 and leaves the result as it was; a success gives three finite,
// non-negative averages; and those written back as loadavg text parse to
// the same values.
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "loadavg.hpp"

namespace {

constexpr std::string_view kFile = "/proc/loadavg";

// Shortest round-trip decimal, never an exponent (the parser takes the
// kernel's fixed notation only).
std::string Fixed(double v) {
  char buf[1100];  // fixed notation of the smallest denormal is ~330
  const auto r =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace la = sysmetrics::loadavg;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  la::LoadAvg avg{7, 8, 9};  // an earlier scrape's values
  std::string error;
  if (!la::ParseLoadAvg(text, kFile, &avg, &error)) {
    FUZZ_CHECK(error.starts_with(std::string(kFile) + ":1: "),
               "error does not name the file and line: '" + error + "'");
    FUZZ_CHECK(avg.load1 == 7 && avg.load5 == 8 && avg.load15 == 9,
               "a failed parse changed the result");
    return 0;
  }
  for (const double v : {avg.load1, avg.load5, avg.load15}) {
    FUZZ_CHECK(std::isfinite(v) && v >= 0,
               "an average is negative or not finite");
  }
  const std::string again = Fixed(avg.load1) + " " + Fixed(avg.load5) + " " +
                            Fixed(avg.load15) + " 1/100 4242\n";
  la::LoadAvg reparsed;
  FUZZ_CHECK(la::ParseLoadAvg(again, kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.load1 == avg.load1 && reparsed.load5 == avg.load5 &&
                 reparsed.load15 == avg.load15,
             "the result parses differently written back:\n" + again);
  return 0;
}
