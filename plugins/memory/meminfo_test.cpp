#include "meminfo.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace sysmetrics::memory {
namespace {

constexpr std::string_view kFile = "/proc/meminfo";

// The row of kMeminfoFields for key (a test typo fails the test).
std::size_t RowOf(std::string_view key) {
  for (std::size_t i = 0; i < kNumMeminfoFields; ++i) {
    if (kMeminfoFields[i].key == key) return i;
  }
  FAIL("no row for " << key);
  return 0;
}

// The value read for key, known or not; nullopt when it was not read.
std::optional<std::uint64_t> Value(const MemInfo& m, std::string_view key) {
  for (const MemInfoLine& l : m.lines) {
    if (l.name == key) return l.value;
  }
  return std::nullopt;
}

// The keys read, in order.
std::vector<std::string> Keys(const MemInfo& m) {
  std::vector<std::string> keys;
  for (const MemInfoLine& l : m.lines) keys.emplace_back(l.name);
  return keys;
}

// The line numbers of out.skipped, in order.
std::vector<std::size_t> Lines(const MemInfo& m) {
  std::vector<std::size_t> lines;
  for (const plugin::SkippedLine& s : m.skipped) lines.push_back(s.line);
  return lines;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("the fixture: every key in file order, kB in bytes") {
  // The results hold views into the text: it must outlive them.
  const std::string data =
      ReadFile(SYSMETRICS_SOURCE_DIR "/plugins/memory/testdata/procfs/meminfo");
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo(data, kFile, &m, &err));
  CHECK(m.skipped.empty());
  CHECK(Keys(m) == std::vector<std::string>{
                       "MemTotal", "MemFree", "MemAvailable", "Buffers",
                       "Cached", "SwapCached", "Active", "Inactive", "Shmem",
                       "SwapTotal", "SwapFree", "Dirty", "HugePages_Total",
                       "HugePages_Free", "Hugepagesize", "DirectMap4k"});
  CHECK(m.Known(RowOf("MemTotal"))->value == 8000000ULL * 1024);
  CHECK(m.Known(RowOf("MemFree"))->value == 1000000ULL * 1024);
  CHECK(m.Known(RowOf("MemAvailable"))->value == 5000000ULL * 1024);
  CHECK(m.Known(RowOf("Buffers"))->value == 200000ULL * 1024);
  CHECK(m.Known(RowOf("Cached"))->value == 3000000ULL * 1024);
  CHECK(m.Known(RowOf("SwapTotal"))->value == 2000000ULL * 1024);
  CHECK(m.Known(RowOf("SwapFree"))->value == 1500000ULL * 1024);
  CHECK(m.Known(RowOf("Hugepagesize"))->value == 2048ULL * 1024);
  const MemInfoLine* huge = m.Known(RowOf("HugePages_Total"));
  REQUIRE(huge != nullptr);
  CHECK_FALSE(huge->kib);
  CHECK(huge->line == 13);
  CHECK(m.Known(RowOf("Zswap")) == nullptr);
  for (const MemInfoLine& l : m.lines) {
    CAPTURE(l.name);
    REQUIRE(l.field != kUnknownField);
    CHECK(kMeminfoFields[l.field].key == l.name);
    CHECK(kMeminfoFields[l.field].kib == l.kib);
  }
}

TEST_CASE("a 6.1 kernel's full list: every key known, in table order") {
  const std::string data =
      ReadFile(SYSMETRICS_SOURCE_DIR "/tests/fixtures/trees/linux-6.x/meminfo");
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo(data, kFile, &m, &err));
  CHECK(m.skipped.empty());
  REQUIRE(m.lines.size() >= 50);
  std::size_t last = 0;
  for (const MemInfoLine& l : m.lines) {
    CAPTURE(l.name);
    REQUIRE(l.field != kUnknownField);
    CHECK(l.field >= last);  // the table follows the kernel's order
    last = l.field;
  }
  CHECK(*Value(m, "Active(anon)") == 2364ULL * 1024);
  CHECK(*Value(m, "Committed_AS") == 7251248ULL * 1024);
  CHECK(*Value(m, "VmallocTotal") == 34359738367ULL * 1024);
  CHECK(*Value(m, "HugePages_Surp") == 0);
  CHECK(*Value(m, "DirectMap1G") == 9437184ULL * 1024);
}

TEST_CASE("a 2.6 kernel: no MemAvailable, highmem and quicklist keys") {
  MemInfo m;
  std::string err;
  REQUIRE(
      ParseMemInfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 1 kB\n"
                   "Cached: 2 kB\nHighTotal: 0 kB\nLowFree: 10 kB\n"
                   "SwapTotal: 0 kB\nSwapFree: 0 kB\nQuicklists: 4 kB\n"
                   "HugePages_Total:     0\nHugePages_Free:      0\n"
                   "HugePages_Rsvd:      0\nHugepagesize:     4096 kB\n",
                   kFile, &m, &err));
  CHECK(m.skipped.empty());
  CHECK(m.Known(RowOf("MemAvailable")) == nullptr);
  CHECK(m.Known(RowOf("MemTotal"))->value == 102400);
  CHECK(m.Known(RowOf("LowFree"))->value == 10240);
  CHECK(m.Known(RowOf("Quicklists"))->value == 4096);
  CHECK(m.Known(RowOf("Hugepagesize"))->value == 4096ULL * 1024);
  CHECK(m.lines.size() == 13);
}

TEST_CASE("a future kernel's keys are read, with or without a unit") {
  MemInfo m;
  std::string err;
  REQUIRE(
      ParseMemInfo("MemTotal: 1 kB\nFutureField:  123 kB\nFutureCount: 7\n"
                   "Future(anon)Pages: 5 kB (note)\nMemFree: 2 kB\n",
                   kFile, &m, &err));
  CHECK(m.skipped.empty());
  REQUIRE(m.lines.size() == 5);
  CHECK(m.lines[1].name == "FutureField");
  CHECK(m.lines[1].field == kUnknownField);
  CHECK(m.lines[1].kib);
  CHECK(m.lines[1].value == 123 * 1024);
  CHECK(m.lines[2].name == "FutureCount");
  CHECK_FALSE(m.lines[2].kib);
  CHECK(m.lines[2].value == 7);
  CHECK(m.lines[3].value == 5 * 1024);
  CHECK(m.lines[4].line == 5);
  CHECK(m.Known(RowOf("MemFree"))->value == 2048);
}

TEST_CASE("keys in any order are found; odd spacing is fine") {
  MemInfo m;
  std::string err;
  REQUIRE(
      ParseMemInfo("DirectMap1G: 1 kB\nHugePages_Total:       0\n"
                   "MemTotal:\t42 kB\nDirectMap4k: 2 kB\n",
                   kFile, &m, &err));
  CHECK(m.skipped.empty());
  CHECK(m.Known(RowOf("MemTotal"))->value == 42 * 1024);
  CHECK(m.Known(RowOf("DirectMap1G"))->value == 1024);
  CHECK(m.Known(RowOf("DirectMap4k"))->value == 2048);
  CHECK(m.Known(RowOf("HugePages_Total"))->value == 0);
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
      {"HugePages_Free: 3 kB",
       "HugePages_Free: value 3 has unit 'kB', want none"},
      {"HugePages_Free: 3 pages",
       "HugePages_Free: value 3 has unit 'pages', want none"},
      {"Future: 3 MB", "Future: value 3 has unit 'MB', want kB or none"},
      {"Future: lots of it", "Future: value 'lots' is not a number"},
      {"Future:", "Future: no value"},
      {": 5 kB", "no key before ':'"},
      {" MemFree: 5 kB",
       "key ' MemFree' has a character other than A-Z, a-z, 0-9, _, ( and )"},
      {"Mem Free: 5 kB",
       "key 'Mem Free' has a character other than A-Z, a-z, 0-9, _, ( and )"},
      {"Mem-Free: 5 kB",
       "key 'Mem-Free' has a character other than A-Z, a-z, 0-9, _, ( and )"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text = std::string("MemTotal: 100 kB\n") + c.line +
                             "\nCached: 2 kB\nSwapFree: 3 kB\n";
    MemInfo m;
    std::string err;
    REQUIRE(ParseMemInfo(text, kFile, &m, &err));
    CHECK(Keys(m) ==
          std::vector<std::string>{"MemTotal", "Cached", "SwapFree"});
    CHECK(*Value(m, "MemTotal") == 100 * 1024);
    CHECK(*Value(m, "Cached") == 2 * 1024);
    CHECK(*Value(m, "SwapFree") == 3 * 1024);
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
                   "MemFree: 3 kB\nMemFree: 4 kB\nNew: 1\nNew: 2\n",
                   kFile, &m, &err));
  CHECK(*Value(m, "MemTotal") == 1024);
  CHECK(*Value(m, "MemFree") == 3 * 1024);
  CHECK(*Value(m, "New") == 1);
  CHECK(Lines(m) == std::vector<std::size_t>{2, 3, 5, 7});
  CHECK(m.skipped[1].reason == "MemTotal repeats line 1");
  CHECK(m.skipped[2].reason == "MemFree repeats line 4");
  CHECK(m.skipped[3].reason == "New repeats line 6");
}

TEST_CASE("thousands of distinct unknown keys: each read once") {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "K" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  }
  text += "K17: 5\n";
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo(text, kFile, &m, &err));
  CHECK(m.lines.size() == 5000);
  CHECK(m.lines[4999].value == 4999);
  CHECK(Lines(m) == std::vector<std::size_t>{5001});
  CHECK(m.skipped[0].reason == "K17 repeats line 18");
}

TEST_CASE("a later kernel's extra fields after the unit are ignored") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 100 kB (approx) x y\nMemFree: 7 kB 8 kB\n",
                       kFile, &m, &err));
  CHECK(m.skipped.empty());
  CHECK(*Value(m, "MemTotal") == 100 * 1024);
  CHECK(*Value(m, "MemFree") == 7 * 1024);
}

TEST_CASE("blank lines are never reported") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("\n  \t\nMemTotal: 1 kB\n\n", kFile, &m, &err));
  CHECK(m.skipped.empty());
  CHECK(*Value(m, "MemTotal") == 1024);
}

TEST_CASE("the key is the text before ':' as printed") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("memtotal: 1 kB\nMemTotal : 2 kB\n\xff: 3\n", kFile, &m,
                       &err));
  // "memtotal" is a key the table does not know, not MemTotal.
  CHECK(Keys(m) == std::vector<std::string>{"memtotal"});
  CHECK(m.lines[0].field == kUnknownField);
  CHECK(m.Known(RowOf("MemTotal")) == nullptr);
  CHECK(Lines(m) == std::vector<std::size_t>{2, 3});
}

TEST_CASE("truncated mid-number on the last line: the unit is missing") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 100 kB\nCached: 12", kFile, &m, &err));
  CHECK(*Value(m, "MemTotal") == 100 * 1024);
  CHECK_FALSE(Value(m, "Cached").has_value());
  CHECK(Lines(m) == std::vector<std::size_t>{2});
  CHECK(m.skipped[0].reason == "Cached: value 12 has no unit, want kB");
}

TEST_CASE("nothing usable fails with the file and no line number") {
  const std::string kNone = "/proc/meminfo: no 'Key: value' line could be read";
  MemInfo m;
  std::string err;
  CHECK_FALSE(ParseMemInfo("", kFile, &m, &err));
  CHECK(err == kNone);
  CHECK(m.skipped.empty());
  CHECK_FALSE(ParseMemInfo("\n \n", kFile, &m, &err));
  CHECK(err == kNone);
  err.clear();
  CHECK_FALSE(
      ParseMemInfo("\x7f"
                   "ELF\x02\x01\n%%%%\n",
                   kFile, &m, &err));
  CHECK(err == kNone);
  CHECK(Lines(m) == std::vector<std::size_t>{1, 2});
  CHECK(m.skipped[0].reason == "no ':' after a key");
  // Every line bad: fails, and the bad lines are still listed.
  err.clear();
  CHECK_FALSE(ParseMemInfo("MemTotal: lots kB\nX: y\n", kFile, &m, &err));
  CHECK(err == kNone);
  CHECK(m.lines.empty());
  CHECK(m.Known(RowOf("MemTotal")) == nullptr);
  CHECK(Lines(m) == std::vector<std::size_t>{1, 2});
  CHECK(m.skipped[0].reason == "MemTotal: value 'lots' is not a number");
}

TEST_CASE("a parse replaces the previous result") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 1 kB\nMemFree: 2 kB\nCached: x kB\n", kFile,
                       &m, &err));
  REQUIRE(m.skipped.size() == 1);
  REQUIRE(ParseMemInfo("SwapFree: 3 kB\nMemTotal: 4 kB\n", kFile, &m, &err));
  CHECK(m.Known(RowOf("MemFree")) == nullptr);
  CHECK(m.Known(RowOf("MemTotal"))->value == 4 * 1024);
  CHECK(m.Known(RowOf("SwapFree"))->value == 3 * 1024);
  CHECK(m.lines.size() == 2);
  CHECK(m.skipped.empty());
}

TEST_CASE("the largest value that fits in bytes") {
  MemInfo m;
  std::string err;
  REQUIRE(ParseMemInfo("MemTotal: 18014398509481983 kB\n", kFile, &m, &err));
  CHECK(*Value(m, "MemTotal") == 18014398509481983ULL * 1024);
  REQUIRE(ParseMemInfo("Count: 18446744073709551615\n", kFile, &m, &err));
  CHECK(*Value(m, "Count") == 18446744073709551615ULL);
}

TEST_CASE("SnakeCase") {
  CHECK(SnakeCase("Active(anon)") == "active_anon");
  CHECK(SnakeCase("Inactive(file)") == "inactive_file");
  CHECK(SnakeCase("Committed_AS") == "committed_as");
  CHECK(SnakeCase("DirectMap2M") == "direct_map2m");
  CHECK(SnakeCase("KReclaimable") == "kreclaimable");
  CHECK(SnakeCase("NFS_Unstable") == "nfs_unstable");
  CHECK(SnakeCase("AnonHugePages") == "anon_huge_pages");
  CHECK(SnakeCase("HugePages_Total") == "huge_pages_total");
  CHECK(SnakeCase("Hugepagesize") == "hugepagesize");
  CHECK(SnakeCase("MemTotal") == "mem_total");
  CHECK(SnakeCase("x") == "x");
}

TEST_CASE("UnknownFamilyName") {
  CHECK(UnknownFamilyName("FutureField", true) ==
        "sysmetrics_memory_future_field_bytes");
  CHECK(UnknownFamilyName("FutureCounter", false) ==
        "sysmetrics_memory_future_counter");
  // Suffixes of other metric types (promtool).
  CHECK(UnknownFamilyName("FutureCount", false) ==
        "sysmetrics_memory_future_count_value");
  CHECK(UnknownFamilyName("Page_Sum", false) ==
        "sysmetrics_memory_page_sum_value");
  CHECK(UnknownFamilyName("Big_Bucket", false) ==
        "sysmetrics_memory_big_bucket_value");
  CHECK(UnknownFamilyName("FutureCount", true) ==
        "sysmetrics_memory_future_count_bytes");
  CHECK(UnknownFamilyName("Future(anon)", false) ==
        "sysmetrics_memory_future_anon");
  // A gauge must not end in _total (promtool).
  CHECK(UnknownFamilyName("GPUPages_Total", false) ==
        "sysmetrics_memory_gpupages_total_value");
  CHECK(UnknownFamilyName("GpuTotal", true) ==
        "sysmetrics_memory_gpu_total_bytes");
}

TEST_CASE("the table: one rule for family names, save the named exceptions") {
  // The first release's seven names, the unitless huge page counts, and
  // a name promtool would lint ("_sec_" reads as an abbreviated unit).
  const std::set<std::string_view> special = {
      "MemTotal",       "MemFree",        "MemAvailable",   "Buffers",
      "Cached",         "SwapTotal",      "SwapFree",       "HugePages_Total",
      "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "SecPageTables",
  };
  std::set<std::string_view> keys;
  std::set<std::string_view> families;
  for (const MeminfoField& f : kMeminfoFields) {
    CAPTURE(f.key);
    CHECK(keys.insert(f.key).second);
    CHECK(families.insert(f.family).second);
    CHECK_FALSE(f.help.empty());
    CHECK(f.help.ends_with("(" + std::string(f.key) + ")."));
    CHECK(f.family.starts_with("sysmetrics_memory_"));
    CHECK(f.family.ends_with("_bytes") == f.kib);
    CHECK_FALSE(f.family.ends_with("_total"));
    CHECK(f.family != "sysmetrics_memory_used_bytes");
    // promtool's unit-abbreviation lint.
    for (const char* abbr : {"_s_", "_ms_", "_sec_", "_kb_", "_mb_", "_b_"}) {
      CHECK(f.family.find(abbr) == std::string_view::npos);
    }
    if (special.count(f.key) != 0) continue;
    CHECK(f.family ==
          "sysmetrics_memory_" + SnakeCase(f.key) + (f.kib ? "_bytes" : ""));
  }
  CHECK(keys.size() >= 65);
  CHECK(std::string(kMeminfoFields[RowOf("MemTotal")].family) ==
        "sysmetrics_memory_total_bytes");
  CHECK(std::string(kMeminfoFields[RowOf("HugePages_Total")].family) ==
        "sysmetrics_memory_huge_pages");
  CHECK(std::string(kMeminfoFields[RowOf("HugePages_Rsvd")].family) ==
        "sysmetrics_memory_huge_pages_reserved");
  CHECK(std::string(kMeminfoFields[RowOf("HugePages_Surp")].family) ==
        "sysmetrics_memory_huge_pages_surplus");
  CHECK(std::string(kMeminfoFields[RowOf("SecPageTables")].family) ==
        "sysmetrics_memory_secondary_page_tables_bytes");
}

}  // namespace
}  // namespace sysmetrics::memory
