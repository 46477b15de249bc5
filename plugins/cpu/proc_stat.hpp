// Parser for <procfs>/stat, the per-CPU time counters.
//
// Format (Documentation/filesystems/proc.rst, "1.7 Miscellaneous kernel
// statistics in /proc/stat"): an aggregate "cpu" line, then one "cpuN" line
// per online CPU with the time spent in each mode, in USER_HZ ticks:
//   cpuN user nice system idle iowait irq softirq steal guest guest_nice
// Kernels before 2.6.11 print fewer columns (2.4: four; 2.6.0: seven), so a
// line has at least 4 fields and the modes present are reported. guest
// (2.6.24) and guest_nice (2.6.33) are already included in user and nice,
// so they are not modes: they are kept apart, when the line has them. Any
// column a later kernel appends is ignored. Offline CPUs have no line: the
// numbers that remain keep their values.
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
// Columns 9 and 10, time spent running a guest (a virtual CPU), exported as
// modes "user" and "nice" of the guest family as node_exporter does.
inline constexpr const char* kGuestModeNames[] = {"user", "nice"};
inline constexpr int kGuestModes = 2;
// Above any kernel's NR_CPUS (8,192 at most today): a larger number is a
// garbled line, and the plugin keeps a label string per number up to it.
inline constexpr std::uint64_t kMaxCpus = 16384;

struct CpuTimes {
  std::uint32_t cpu = 0;             // the kernel's CPU number
  int modes = 0;                     // how many of kModeNames the line has
  std::uint64_t ticks[kModes] = {};  // valid for [0, modes)
  int guest_modes = 0;  // how many of kGuestModeNames the line has (0-2)
  std::uint64_t guest_ticks[kGuestModes] = {};  // valid for [0, guest_modes)
};

struct ProcStat {
  std::vector<CpuTimes> cpus;                // in file order, ascending cpu
  std::vector<plugin::SkippedLine> skipped;  // in line order
};

// Parses text (the file's content); file names the file in the error.
//
// Only "cpuN" lines are read: the "cpu" total, every other key and blank
// lines are ignored and not reported. A cpuN line is read as its CPU number
// and the first min(fields, 10) fields after the key: the modes (4 to 8),
// then guest and guest_nice when present; fields after the tenth are not
// looked at. A cpuN line is skipped, and
// recorded in out->skipped with its 1-based line number and a reason that
// names the key but not the file or line ("cpu0: field 3 'x3' is not a
// number"), when N is not a decimal number below kMaxCpus, it has fewer than 4
// fields, one of the fields it reads is not a decimal uint64, or its CPU
// number is not greater than that of the last cpuN line accepted (a repeat
// or a line out of order).
//
// Returns true when at least one cpuN line was accepted: out->cpus holds the
// accepted lines and out->skipped the skipped ones. Otherwise (an empty
// file, no cpuN line, every one skipped) returns false and sets *error to
// "<file>: no per-CPU (cpuN) line could be read"; out->cpus is then empty
// and out->skipped still lists the skipped lines. Both vectors are cleared
// first and keep their capacity.
bool ParseProcStat(std::string_view text, std::string_view file, ProcStat* out,
                   std::string* error);

}  // namespace sysmetrics::cpu
