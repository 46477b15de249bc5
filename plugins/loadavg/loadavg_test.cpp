#include "loadavg.hpp"

#include <doctest/doctest.h>

#include <string>

namespace sysmetrics::loadavg {
namespace {

constexpr std::string_view kFile = "/proc/loadavg";

TEST_CASE("a kernel's line: the three averages, the rest not read") {
  LoadAvg l;
  std::string err;
  REQUIRE(ParseLoadAvg("0.52 1.58 12.59 2/1234 56789\n", kFile, &l, &err));
  CHECK(l.load1 == doctest::Approx(0.52));
  CHECK(l.load5 == doctest::Approx(1.58));
  CHECK(l.load15 == doctest::Approx(12.59));
}

TEST_CASE("no newline, extra fields and later lines are fine") {
  LoadAvg l;
  std::string err;
  REQUIRE(ParseLoadAvg("0.00 0.01 0.05", kFile, &l, &err));
  CHECK(l.load15 == doctest::Approx(0.05));
  REQUIRE(ParseLoadAvg("1 2 3 4/5 6 future\nmore\n", kFile, &l, &err));
  CHECK(l.load1 == 1);
  CHECK(l.load15 == 3);
}

TEST_CASE("a line that cannot be read fails, naming the file and field") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "/proc/loadavg:1: 0 fields, want the 3 load averages"},
      {"\n0.1 0.2 0.3\n",
       "/proc/loadavg:1: 0 fields, want the 3 load averages"},
      {"0.52 0.58\n", "/proc/loadavg:1: 2 fields, want the 3 load averages"},
      {"0.52 x 0.59 1/2 3\n",
       "/proc/loadavg:1: field 2 'x' is not a load average"},
      {"0,52 0.58 0.59\n",
       "/proc/loadavg:1: field 1 '0,52' is not a load average"},
      {"0.52 0.58 -1\n", "/proc/loadavg:1: field 3 '-1' is not a load average"},
      {"nan 0.58 0.59\n",
       "/proc/loadavg:1: field 1 'nan' is not a load average"},
      {"inf 0.58 0.59\n",
       "/proc/loadavg:1: field 1 'inf' is not a load average"},
      {"1e3 0.58 0.59\n",
       "/proc/loadavg:1: field 1 '1e3' is not a load average"},
      {"\x7f"
       "ELF garbage\n",
       "/proc/loadavg:1: field 1 '\x7f"
       "ELF' is not a load average"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    LoadAvg l{7, 8, 9};
    std::string err;
    CHECK_FALSE(ParseLoadAvg(c.text, kFile, &l, &err));
    CHECK(err == c.error);
    CHECK(l.load1 == 7);  // unchanged
  }
}

}  // namespace
}  // namespace sysmetrics::loadavg
