#include "proc_stat.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sysmetrics::cpu {
namespace {

constexpr std::string_view kFile = "/proc/stat";

TEST_CASE("one CPU, a modern kernel with guest columns") {
  const std::string text =
      "cpu  100 2 30 4000 5 6 7 8 9 10\n"
      "cpu0 100 2 30 4000 5 6 7 8 9 10\n"
      "intr 12345 0 0\nctxt 999\nbtime 1700000000\nprocesses 10\n";
  ProcStat st;
  std::string err;
  REQUIRE(ParseProcStat(text, kFile, &st, &err));
  REQUIRE(st.cpus.size() == 1);
  CHECK(st.cpus[0].cpu == 0);
  CHECK(st.cpus[0].modes == 8);  // guest and guest_nice are not modes
  CHECK(st.cpus[0].ticks[0] == 100);
  CHECK(st.cpus[0].ticks[3] == 4000);
  CHECK(st.cpus[0].ticks[7] == 8);
  CHECK(st.cpus[0].guest_modes == 2);
  CHECK(st.cpus[0].guest_ticks[0] == 9);
  CHECK(st.cpus[0].guest_ticks[1] == 10);
}

TEST_CASE("2.6.24 to 2.6.32: guest without guest_nice") {
  ProcStat st;
  std::string err;
  REQUIRE(ParseProcStat("cpu0 1 2 3 4 5 6 7 8 9\n", kFile, &st, &err));
  CHECK(st.cpus[0].modes == 8);
  CHECK(st.cpus[0].guest_modes == 1);
  CHECK(st.cpus[0].guest_ticks[0] == 9);
}

TEST_CASE("128 CPUs with offline gaps keep the kernel's numbers") {
  std::string text = "cpu  1 1 1 1 1 1 1 1 0 0\n";
  int expected = 0;
  for (int cpu = 0; cpu < 140; ++cpu) {
    if (cpu % 13 == 5 || expected == 128) continue;  // offline
    text += "cpu" + std::to_string(cpu) + " " + std::to_string(cpu) +
            " 0 0 0 0 0 0 0 0 0\n";
    ++expected;
  }
  ProcStat st;
  std::string err;
  REQUIRE(ParseProcStat(text, kFile, &st, &err));
  REQUIRE(st.cpus.size() == 128);
  for (const CpuTimes& t : st.cpus) {
    CHECK(t.cpu % 13 != 5);
    CHECK(t.ticks[0] == t.cpu);  // value belongs to its own CPU
  }
}

TEST_CASE("an older kernel with 8 columns (no guest)") {
  ProcStat st;
  std::string err;
  REQUIRE(ParseProcStat("cpu 1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n", kFile,
                        &st, &err));
  CHECK(st.cpus[0].modes == 8);
  CHECK(st.cpus[0].guest_modes == 0);
}

TEST_CASE("a 2.4 kernel with four columns exports four modes") {
  ProcStat st;
  std::string err;
  REQUIRE(ParseProcStat("cpu0 1 2 3 4\ncpu1 5 6 7 8", kFile, &st, &err));
  REQUIRE(st.cpus.size() == 2);
  CHECK(st.cpus[1].modes == 4);
  CHECK(st.cpus[1].ticks[3] == 8);
}

TEST_CASE("a 2.6.0 kernel with seven columns") {
  ProcStat st;
  std::string err;
  REQUIRE(ParseProcStat("cpu0 1 2 3 4 5 6 7\n", kFile, &st, &err));
  CHECK(st.cpus[0].modes == 7);
  CHECK(st.cpus[0].guest_modes == 0);
}

// The line numbers of out.skipped, in order.
std::vector<std::size_t> Lines(const ProcStat& st) {
  std::vector<std::size_t> lines;
  for (const plugin::SkippedLine& s : st.skipped) lines.push_back(s.line);
  return lines;
}

TEST_CASE("a later kernel's extra columns are not read, numbers or not") {
  ProcStat st;
  std::string err;
  REQUIRE(
      ParseProcStat("cpu 1 2 3 4 5 6 7 8 9 10 11 12\n"
                    "cpu0 1 2 3 4 5 6 7 8 9 10 11 x12 future\n"
                    "cpu1 10 20 30 40 50 60 70 80 90 100 -1 nan\n",
                    kFile, &st, &err));
  CHECK(st.skipped.empty());
  REQUIRE(st.cpus.size() == 2);
  CHECK(st.cpus[0].modes == 8);
  CHECK(st.cpus[0].ticks[7] == 8);
  CHECK(st.cpus[0].guest_modes == 2);
  CHECK(st.cpus[0].guest_ticks[1] == 10);
  CHECK(st.cpus[1].modes == 8);
  CHECK(st.cpus[1].ticks[7] == 80);
  CHECK(st.cpus[1].guest_ticks[0] == 90);
}

TEST_CASE("one bad line costs that line only") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"cpu1 1 2 x3 4 5 6 7 8 0 0", "cpu1: field 3 'x3' is not a number"},
      {"cpu1 1 2 3", "cpu1: 3 fields, want at least 4"},
      {"cpu1", "cpu1: 0 fields, want at least 4"},
      {"cpu1 -1 2 3 4", "cpu1: field 1 '-1' is not a number"},
      {"cpu1 1 2 3 99999999999999999999",
       "cpu1: field 4 '99999999999999999999' is not a number"},
      {"cpu1 1 2 3 4 5 6 7 8.5 9", "cpu1: field 8 '8.5' is not a number"},
      {"cpu1 1 2 3 4 5 6 7 8 x9", "cpu1: field 9 'x9' is not a number"},
      {"cpu1 1 2 3 4 5 6 7 8 9 -10 11", "cpu1: field 10 '-10' is not a number"},
      {"cpuX 1 2 3 4",
       "cpuX: CPU number 'X' is not a decimal number below 16384"},
      {"cpu-1 1 2 3 4",
       "cpu-1: CPU number '-1' is not a decimal number below 16384"},
      {"cpu16384 1 2 3 4",
       "cpu16384: CPU number '16384' is not a decimal number below 16384"},
      {"cpu4000000000 1 2 3 4",
       "cpu4000000000: CPU number '4000000000' is not a decimal number below "
       "16384"},
      {"cpu0 1 2 3 4", "cpu0 repeats line 2"},
      {"cpu00 1 2 3 4", "cpu00 repeats line 2"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text = std::string("cpu  1 2 3 4 5 6 7 8 0 0\n") +
                             "cpu0 100 2 30 4000 5 6 7 8 0 0\n" + c.line +
                             "\ncpu2 200 2 30 4000 5 6 7 8 0 0\n" +
                             "intr 1 2 3\n";
    ProcStat st;
    std::string err;
    REQUIRE(ParseProcStat(text, kFile, &st, &err));
    REQUIRE(st.cpus.size() == 2);
    CHECK(st.cpus[0].cpu == 0);
    CHECK(st.cpus[0].ticks[0] == 100);
    CHECK(st.cpus[1].cpu == 2);
    CHECK(st.cpus[1].ticks[0] == 200);
    CHECK(st.cpus[1].modes == 8);
    REQUIRE(st.skipped.size() == 1);
    CHECK(st.skipped[0].line == 3);
    CHECK(st.skipped[0].reason == c.reason);
  }
}

TEST_CASE("CPU numbers must ascend: a line out of order is skipped") {
  ProcStat st;
  std::string err;
  REQUIRE(
      ParseProcStat("cpu0 1 2 3 4\ncpu3 1 2 3 4\ncpu1 1 2 3 4\n"
                    "cpu3 1 2 3 4\ncpu4 1 2 3 4\n",
                    kFile, &st, &err));
  REQUIRE(st.cpus.size() == 3);
  CHECK(st.cpus[0].cpu == 0);
  CHECK(st.cpus[1].cpu == 3);
  CHECK(st.cpus[2].cpu == 4);
  CHECK(Lines(st) == std::vector<std::size_t>{3, 4});
  CHECK(st.skipped[0].reason == "cpu1 is out of order: follows cpu3 on line 2");
  CHECK(st.skipped[1].reason == "cpu3 repeats line 2");
}

TEST_CASE("several bad lines are all reported, in line order") {
  ProcStat st;
  std::string err;
  REQUIRE(
      ParseProcStat("cpu 1 2 3 4\ncpu0 x\ncpu1 1 2 3 4\n\ncpu2 1 2\n"
                    "cpu3 1 2 3 4 5 6 7",
                    kFile, &st, &err));
  REQUIRE(st.cpus.size() == 2);
  CHECK(st.cpus[0].cpu == 1);
  CHECK(st.cpus[1].cpu == 3);
  CHECK(st.cpus[1].modes == 7);
  CHECK(Lines(st) == std::vector<std::size_t>{2, 5});
  CHECK(st.skipped[0].reason == "cpu0: 1 fields, want at least 4");
}

TEST_CASE("the total, other keys and blank lines are never reported") {
  ProcStat st;
  std::string err;
  REQUIRE(
      ParseProcStat("\ncpu garbage\n  \t\nintr x y\ncpu0 1 2 3 4\n"
                    "cpufreq? no\n\n",
                    kFile, &st, &err));
  REQUIRE(st.cpus.size() == 1);
  // "cpufreq?" starts with "cpu": it is a cpuN line with a bad number.
  CHECK(Lines(st) == std::vector<std::size_t>{6});
}

TEST_CASE("truncated mid-line: the last line is short, never a wrong number") {
  ProcStat st;
  std::string err;
  REQUIRE(ParseProcStat("cpu0 1 2 3 4\ncpu1 1 2", kFile, &st, &err));
  REQUIRE(st.cpus.size() == 1);
  CHECK(Lines(st) == std::vector<std::size_t>{2});
}

TEST_CASE("nothing usable fails with the file and no line number") {
  ProcStat st;
  std::string err;
  const std::string kNone = "/proc/stat: no per-CPU (cpuN) line could be read";
  CHECK_FALSE(ParseProcStat("", kFile, &st, &err));
  CHECK(err == kNone);
  CHECK(st.skipped.empty());
  CHECK_FALSE(ParseProcStat("\n\n", kFile, &st, &err));
  CHECK(err == kNone);
  CHECK_FALSE(ParseProcStat("cpu 1 2 3 4\nintr 1\n", kFile, &st, &err));
  CHECK(err == kNone);
  CHECK_FALSE(
      ParseProcStat("\x7f"
                    "ELF\x01\x02 garbage\n%%%%\n",
                    kFile, &st, &err));
  CHECK(err == kNone);
  CHECK(st.skipped.empty());
  // Every cpuN line bad: fails, and the bad lines are still listed.
  err.clear();
  CHECK_FALSE(ParseProcStat("cpu 1 2 3 4\ncpu0 1 2 x3 4\n", kFile, &st, &err));
  CHECK(err == kNone);
  CHECK(st.cpus.empty());
  CHECK(Lines(st) == std::vector<std::size_t>{2});
  CHECK(st.skipped[0].reason == "cpu0: field 3 'x3' is not a number");
}

TEST_CASE("a parse replaces the previous result") {
  ProcStat st;
  std::string err;
  REQUIRE(
      ParseProcStat("cpu0 1 2 3 4\ncpu1 x\ncpu2 1 2 3 4\n", kFile, &st, &err));
  REQUIRE(st.skipped.size() == 1);
  REQUIRE(ParseProcStat("cpu5 1 2 3 4\n", kFile, &st, &err));
  REQUIRE(st.cpus.size() == 1);
  CHECK(st.cpus[0].cpu == 5);
  CHECK(st.skipped.empty());
}

}  // namespace
}  // namespace sysmetrics::cpu
