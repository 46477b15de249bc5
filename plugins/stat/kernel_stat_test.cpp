#include "kernel_stat.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sysmetrics::stat {
namespace {

constexpr std::string_view kFile = "/proc/stat";

TEST_CASE("a 6.x kernel: every key, cpu lines and others ignored") {
  const std::string text =
      "cpu  79264 1130 21815 1830245 4350 0 1373 0 0 0\n"
      "cpu0 19829 288 5425 457462 1088 0 731 0 0 0\n"
      "intr 5432168 9 0 0 156 x 0\n"
      "ctxt 9958542\n"
      "btime 1733300000\n"
      "processes 47116\n"
      "procs_running 3\n"
      "procs_blocked 1\n"
      "softirq 2209898 2 318853 8 27383 31547 0 7 1006455 0 825643\n";
  KernelStat st;
  std::string err;
  REQUIRE(ParseKernelStat(text, kFile, &st, &err));
  CHECK(st.interrupts == 5432168u);  // the per-IRQ counts are not read
  CHECK(st.context_switches == 9958542u);
  CHECK(st.boot_time == 1733300000u);
  CHECK(st.forks == 47116u);
  CHECK(st.procs_running == 3u);
  CHECK(st.procs_blocked == 1u);
  REQUIRE(st.has_softirqs);
  CHECK(st.softirqs[0] == 2);       // hi
  CHECK(st.softirqs[1] == 318853);  // timer
  CHECK(st.softirqs[9] == 825643);  // rcu
  CHECK(st.skipped.empty());
}

TEST_CASE("a 2.6.18 kernel: no softirq line, page and swap lines") {
  const std::string text =
      "cpu  2255 34 2290 22625563 6290 127 456\n"
      "page 5741 1808\nswap 1 0\n"
      "intr 114930548 113199788 3 0 5 263 0 4\n"
      "ctxt 1990473\nbtime 1062191376\nprocesses 2915\n"
      "procs_running 1\nprocs_blocked 0\n";
  KernelStat st;
  std::string err;
  REQUIRE(ParseKernelStat(text, kFile, &st, &err));
  CHECK(st.interrupts == 114930548u);
  CHECK(st.procs_blocked == 0u);
  CHECK_FALSE(st.has_softirqs);
  CHECK(st.skipped.empty());
}

TEST_CASE(
    "absent keys stay empty; a later kernel's extra columns are not "
    "read") {
  KernelStat st;
  std::string err;
  REQUIRE(
      ParseKernelStat("ctxt 12 future\nnewkey 1 2 3\n"
                      "softirq 66 1 2 3 4 5 6 7 8 9 10 11 x12\n",
                      kFile, &st, &err));
  CHECK(st.context_switches == 12u);
  CHECK_FALSE(st.interrupts);
  CHECK_FALSE(st.boot_time);
  REQUIRE(st.has_softirqs);
  CHECK(st.softirqs[9] == 10);
  CHECK(st.skipped.empty());
}

TEST_CASE("a 4,000-number intr line: only its first number matters") {
  std::string text = "intr 123456789";
  for (int i = 0; i < 4000; ++i) text += " " + std::to_string(i);
  text += " garbage\nctxt 5\n";
  KernelStat st;
  std::string err;
  REQUIRE(ParseKernelStat(text, kFile, &st, &err));
  CHECK(st.interrupts == 123456789u);
  CHECK(st.context_switches == 5u);
  CHECK(st.skipped.empty());
}

TEST_CASE("one bad line costs that line only") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"intr", "intr: no value"},
      {"intr x1 2 3", "intr: value 'x1' is not a number"},
      {"ctxt -5", "ctxt: value '-5' is not a number"},
      {"btime 1.5", "btime: value '1.5' is not a number"},
      {"processes 99999999999999999999",
       "processes: value '99999999999999999999' is not a number"},
      {"procs_running", "procs_running: no value"},
      {"procs_blocked x", "procs_blocked: value 'x' is not a number"},
      {"softirq", "softirq: no value"},
      {"softirq x 1 2 3 4 5 6 7 8 9 10", "softirq: total 'x' is not a number"},
      {"softirq 45 1 2 3 4 5 6 7 8 9",
       "softirq: 9 vectors after the total, want at least 10"},
      {"softirq 45 1 2 3 4 5 6 x7 8 9 10",
       "softirq: tasklet 'x7' is not a number"},
      {"ctxt 1", "ctxt repeats line 2"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text =
        std::string("cpu0 1 2 3 4\nctxt 77\n") + c.line + "\nprocs_blocked 2\n";
    KernelStat st;
    std::string err;
    REQUIRE(ParseKernelStat(text, kFile, &st, &err));
    CHECK(st.context_switches == 77u);  // the earlier value stays
    CHECK(st.procs_blocked == 2u);
    CHECK_FALSE(st.interrupts);
    CHECK_FALSE(st.has_softirqs);
    REQUIRE(st.skipped.size() == 1);
    CHECK(st.skipped[0].line == 3);
    CHECK(st.skipped[0].reason == c.reason);
  }
}

TEST_CASE("nothing usable fails with the file and no line number") {
  const std::string kNone =
      "/proc/stat: none of the keys intr, ctxt, btime, processes, "
      "procs_running, procs_blocked, softirq could be read";
  KernelStat st;
  std::string err;
  CHECK_FALSE(ParseKernelStat("", kFile, &st, &err));
  CHECK(err == kNone);
  err.clear();
  CHECK_FALSE(ParseKernelStat("cpu0 1 2 3 4\n\n", kFile, &st, &err));
  CHECK(err == kNone);
  CHECK(st.skipped.empty());
  err.clear();
  CHECK_FALSE(
      ParseKernelStat("\x7f"
                      "ELF garbage\n",
                      kFile, &st, &err));
  CHECK(err == kNone);
  err.clear();
  CHECK_FALSE(ParseKernelStat("ctxt x\n", kFile, &st, &err));
  CHECK(err == kNone);
  REQUIRE(st.skipped.size() == 1);
  CHECK(st.skipped[0].line == 1);
}

TEST_CASE("a parse replaces the previous result") {
  KernelStat st;
  std::string err;
  REQUIRE(ParseKernelStat("ctxt 1\nsoftirq 1 1 1 1 1 1 1 1 1 1 1\nbtime x\n",
                          kFile, &st, &err));
  REQUIRE(st.skipped.size() == 1);
  REQUIRE(ParseKernelStat("btime 9\n", kFile, &st, &err));
  CHECK_FALSE(st.context_switches);
  CHECK_FALSE(st.has_softirqs);
  CHECK(st.boot_time == 9u);
  CHECK(st.skipped.empty());
}

}  // namespace
}  // namespace sysmetrics::stat
