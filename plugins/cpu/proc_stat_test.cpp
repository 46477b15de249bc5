#include "proc_stat.hpp"

#include <doctest/doctest.h>

#include <string>

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
}

TEST_CASE("malformed input fails with file, line and problem") {
  ProcStat st;
  std::string err;
  CHECK_FALSE(ParseProcStat("cpu 1 2 3 4\ncpu0 1 2 x3 4\n", kFile, &st, &err));
  CHECK(err == "/proc/stat:2: cpu0 field 3 'x3' is not a number");
  CHECK_FALSE(ParseProcStat("cpu0 1 2 3\n", kFile, &st, &err));
  CHECK(err == "/proc/stat:1: cpu0 line has 3 fields, want at least 4");
  CHECK_FALSE(ParseProcStat("cpu0 1 2 3 4\ncpu0 1 2 3 4\n", kFile, &st, &err));
  CHECK(err.starts_with("/proc/stat:2: cpu0 follows cpu0"));
  CHECK_FALSE(ParseProcStat("cpuX 1 2 3 4\n", kFile, &st, &err));
  CHECK(err == "/proc/stat:1: bad CPU name 'cpuX'");
  CHECK_FALSE(
      ParseProcStat("cpu0 1 2 3 99999999999999999999\n", kFile, &st, &err));
  CHECK(err.find("is not a number") != std::string::npos);
  CHECK_FALSE(ParseProcStat("cpu0 -1 2 3 4\n", kFile, &st, &err));
  CHECK_FALSE(ParseProcStat("cpu 1 2 3 4\nintr 1\n", kFile, &st, &err));
  CHECK(err == "/proc/stat: no per-CPU (cpuN) lines");
  CHECK_FALSE(ParseProcStat("", kFile, &st, &err));
  // Truncated mid-line: the line is short, never a wrong number.
  CHECK_FALSE(ParseProcStat("cpu0 1 2", kFile, &st, &err));
}

}  // namespace
}  // namespace sysmetrics::cpu
