#include "meminfo.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace sysmetrics::memory {
namespace {

constexpr std::string_view kFile = "/proc/meminfo";

TEST_CASE("the fixture: every key in bytes, unknown keys ignored") {
  std::ifstream in(SYSMETRICS_SOURCE_DIR
                   "/plugins/memory/testdata/procfs/meminfo");
  std::stringstream text;
  text << in.rdbuf();
  // The results hold views into the text: it must outlive them.
  const std::string data = text.str();
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo(data, kFile, &m, &err));
  CHECK(*m.total == 8000000ULL * 1024);
  CHECK(*m.free == 1000000ULL * 1024);
  CHECK(*m.available == 5000000ULL * 1024);
  CHECK(*m.buffers == 200000ULL * 1024);
  CHECK(*m.cached == 3000000ULL * 1024);
  CHECK(*m.swap_total == 2000000ULL * 1024);
  CHECK(*m.swap_free == 1500000ULL * 1024);
}

TEST_CASE("a kernel without MemAvailable (before 3.14)") {
  MemInfo m;
  std::string err;
  REQUIRE(
      ParseMemInfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 1 kB\n"
                   "Cached: 2 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
                   kFile, &m, &err));
  CHECK_FALSE(m.available.has_value());
  CHECK(*m.total == 102400);
  CHECK(*m.swap_total == 0);
}

TEST_CASE("keys without units and odd spacing") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("HugePages_Total:       0\nMemTotal:\t42 kB\n", kFile,
                       &m, &err));
  CHECK(*m.total == 42 * 1024);
}

TEST_CASE("malformed values fail with file, line and problem") {
  MemInfo m;
  std::string err;
  CHECK_FALSE(
      ParseMemInfo("MemTotal: 100 kB\nMemFree: abc kB\n", kFile, &m, &err));
  CHECK(err == "/proc/meminfo:2: MemFree value 'abc' is not a number");
  CHECK_FALSE(ParseMemInfo("MemTotal:\n", kFile, &m, &err));
  CHECK(err == "/proc/meminfo:1: MemTotal has no value");
  CHECK_FALSE(ParseMemInfo("MemTotal: 100 MB\n", kFile, &m, &err));
  CHECK(err == "/proc/meminfo:1: MemTotal value must be '<number> kB'");
  CHECK_FALSE(ParseMemInfo("MemTotal: 100\n", kFile, &m, &err));
  CHECK(err == "/proc/meminfo:1: MemTotal value must be '<number> kB'");
  CHECK_FALSE(ParseMemInfo("MemTotal: -5 kB\n", kFile, &m, &err));
  // Truncated mid-number on the last line: the unit is missing.
  CHECK_FALSE(ParseMemInfo("MemTotal: 100 kB\nCached: 12", kFile, &m, &err));
  CHECK(err == "/proc/meminfo:2: Cached value must be '<number> kB'");
  CHECK_FALSE(
      ParseMemInfo("MemTotal: 18446744073709551615 kB\n", kFile, &m, &err));
  CHECK(err.find("overflows") != std::string::npos);
}

TEST_CASE("the largest value that fits in bytes") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 18014398509481983 kB\n", kFile, &m, &err));
  CHECK(*m.total == 18014398509481983ULL * 1024);
}

}  // namespace
}  // namespace sysmetrics::memory
