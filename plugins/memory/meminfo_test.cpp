#include "meminfo.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// The line numbers of out.skipped, in order.
std::vector<std::size_t> Lines(const MemInfo& m) {
  std::vector<std::size_t> lines;
  for (const plugin::SkippedLine& s : m.skipped) lines.push_back(s.line);
  return lines;
}

TEST_CASE("one bad line costs that key only") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"MemFree: abc kB", "MemFree: value 'abc' is not a number"},
      {"MemFree:", "MemFree: no value"},
      {"MemFree:   \t ", "MemFree: no value"},
      {"MemFree: 100 MB", "MemFree: value 100 has unit 'MB', want kB"},
      {"MemFree: 100 kb", "MemFree: value 100 has unit 'kb', want kB"},
      {"MemFree: 100", "MemFree: value 100 has no unit, want kB"},
      {"MemFree: -5 kB", "MemFree: value '-5' is not a number"},
      {"MemFree: 1.5 kB", "MemFree: value '1.5' is not a number"},
      {"MemFree: 18446744073709551615 kB",
       "MemFree: value 18446744073709551615 kB overflows a 64-bit byte count"},
      {"MemFree: 18014398509481984 kB",
       "MemFree: value 18014398509481984 kB overflows a 64-bit byte count"},
      {"MemFree: 99999999999999999999 kB",
       "MemFree: value '99999999999999999999' is not a number"},
      {"MemTotal: 5 kB", "MemTotal repeats line 1"},
      {"garbage without a colon", "no ':' after a key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text = std::string("MemTotal: 100 kB\n") + c.line +
                             "\nCached: 2 kB\nSwapFree: 3 kB\n";
    MemInfo m;
    std::string err;
    REQUIRE(ParseMemInfo(text, kFile, &m, &err));
    CHECK(*m.total == 100 * 1024);
    CHECK(*m.cached == 2 * 1024);
    CHECK(*m.swap_free == 3 * 1024);
    CHECK_FALSE(m.free.has_value());
    REQUIRE(m.skipped.size() == 1);
    CHECK(m.skipped[0].line == 2);
    CHECK(m.skipped[0].reason == c.reason);
  }
}

TEST_CASE(
    "a repeated key keeps the first value; a bad first one does not "
    "count") {
  MemInfo m;
  std::string err;
  REQUIRE(
      ParseMemInfo("MemTotal: 1 kB\nMemFree: x kB\nMemTotal: 2 kB\n"
                   "MemFree: 3 kB\nMemFree: 4 kB\n",
                   kFile, &m, &err));
  CHECK(*m.total == 1024);
  CHECK(*m.free == 3 * 1024);
  CHECK(Lines(m) == std::vector<std::size_t>{2, 3, 5});
  CHECK(m.skipped[1].reason == "MemTotal repeats line 1");
  CHECK(m.skipped[2].reason == "MemFree repeats line 4");
}

TEST_CASE("a later kernel's extra fields after kB are ignored") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 100 kB (approx) x y\nMemFree: 7 kB 8 kB\n",
                       kFile, &m, &err));
  CHECK(m.skipped.empty());
  CHECK(*m.total == 100 * 1024);
  CHECK(*m.free == 7 * 1024);
}

TEST_CASE(
    "unknown keys and blank lines are never reported, whatever they "
    "hold") {
  MemInfo m;
  std::string err;
  REQUIRE(
      ParseMemInfo("\nHugePages_Total:       0\nFutureKey: lots of it\n"
                   "Weird: \xff\xfe\n  \t\nMemTotal: 1 kB\n"
                   " MemFree: x kB\nMemTotal : y kB\nmemtotal: z kB\n"
                   "Unevictable:\n",
                   kFile, &m, &err));
  CHECK(m.skipped.empty());
  CHECK(*m.total == 1024);
  // The key is the text before ':' as printed: " MemFree" is not MemFree.
  CHECK_FALSE(m.free.has_value());
}

TEST_CASE("truncated mid-number on the last line: the unit is missing") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 100 kB\nCached: 12", kFile, &m, &err));
  CHECK(*m.total == 100 * 1024);
  CHECK_FALSE(m.cached.has_value());
  CHECK(Lines(m) == std::vector<std::size_t>{2});
  CHECK(m.skipped[0].reason == "Cached: value 12 has no unit, want kB");
}

TEST_CASE("nothing usable fails with the file and no line number") {
  const std::string kNone =
      "/proc/meminfo: none of the keys MemTotal, MemFree, MemAvailable, "
      "Buffers, Cached, SwapTotal, SwapFree could be read";
  MemInfo m;
  std::string err;
  CHECK_FALSE(ParseMemInfo("", kFile, &m, &err));
  CHECK(err == kNone);
  CHECK(m.skipped.empty());
  CHECK_FALSE(ParseMemInfo("\n \n", kFile, &m, &err));
  CHECK(err == kNone);
  CHECK_FALSE(ParseMemInfo("HugePages_Total: 0\nFoo: 1 kB\n", kFile, &m, &err));
  CHECK(err == kNone);
  CHECK(m.skipped.empty());
  err.clear();
  CHECK_FALSE(
      ParseMemInfo("\x7f"
                   "ELF\x02\x01\n%%%%\n",
                   kFile, &m, &err));
  CHECK(err == kNone);
  CHECK(Lines(m) == std::vector<std::size_t>{1, 2});
  CHECK(m.skipped[0].reason == "no ':' after a key");
  // Every known key bad: fails, and the bad lines are still listed.
  err.clear();
  CHECK_FALSE(ParseMemInfo("MemTotal: lots kB\n", kFile, &m, &err));
  CHECK(err == kNone);
  CHECK_FALSE(m.total.has_value());
  CHECK(Lines(m) == std::vector<std::size_t>{1});
  CHECK(m.skipped[0].reason == "MemTotal: value 'lots' is not a number");
}

TEST_CASE("a parse replaces the previous result") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 1 kB\nMemFree: 2 kB\nCached: x kB\n", kFile,
                       &m, &err));
  REQUIRE(m.skipped.size() == 1);
  REQUIRE(ParseMemInfo("SwapFree: 3 kB\n", kFile, &m, &err));
  CHECK_FALSE(m.total.has_value());
  CHECK_FALSE(m.free.has_value());
  CHECK(*m.swap_free == 3 * 1024);
  CHECK(m.skipped.empty());
}

TEST_CASE("the largest value that fits in bytes") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 18014398509481983 kB\n", kFile, &m, &err));
  CHECK(*m.total == 18014398509481983ULL * 1024);
}

}  // namespace
}  // namespace sysmetrics::memory
