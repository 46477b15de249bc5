// Parser for <procfs>/stat, the per-CPU time counters.
//
// Format (Documentation/filesystems/proc.rst, "1.7 Miscellaneous kernel
// statistics in /proc/stat"): an aggregate "cpu" line, then one "cpuN" line
// per online CPU with the time spent in each mode, in USER_HZ ticks:
//   cpuN user nice system idle iowait irq softirq steal guest guest_nice
// Kernels before 2.6.11 print fewer columns (2.4: four; 2.6.0: seven), so a
// line has at least 4 fields and the modes present are reported. guest and
// guest_nice are already included in user and nice and are not modes here.
// Offline CPUs have no line: the numbers that remain keep their values.
//
// Pure function of its input; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::cpu {

inline constexpr const char* kModeNames[] = {
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
inline constexpr int kModes = 8;

struct CpuTimes {
  std::uint32_t cpu = 0;             // the kernel's CPU number
  int modes = 0;                     // how many of kModeNames the line has
  std::uint64_t ticks[kModes] = {};  // valid for [0, modes)
};

struct ProcStat {
  std::vector<CpuTimes> cpus;  // in file order
  std::vector<plugin::SkippedLine> skipped;
};

// Parses text (the file's content). file names the file in error messages.
// On failure returns false and sets *error to "<file>:<line>: <problem>";
// *out is then unspecified. Reuses out->cpus' capacity.
bool ParseProcStat(std::string_view text, std::string_view file, ProcStat* out,
                   std::string* error);

}  // namespace sysmetrics::cpu
