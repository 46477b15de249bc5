// Parser for the kernel-wide counters in <procfs>/stat: everything but the
// cpu lines, which cpu.so reads.
//
// Format (Documentation/filesystems/proc.rst, "1.7 Miscellaneous kernel
// statistics in /proc/stat"), one "key value..." per line:
//   intr 5432168 9 0 ...   interrupts serviced: the total, then one count
//                          per interrupt number (thousands on large hosts)
//   ctxt 9958542           context switches
//   btime 1733300000       boot time, seconds since the epoch
//   processes 47116        forks since boot
//   procs_running 3        runnable tasks (2.5.45+)
//   procs_blocked 0        tasks blocked on I/O (2.5.45+)
//   softirq 2209898 2 ...  softirqs serviced: the total, then one count per
//                          vector (2.6.31+; ten vectors since 2.6.32)
// Any key may be absent (an odd kernel, a container's view), and kernels
// add keys; only these seven are read.
//
// Pure function of its input; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::stat {

// The softirq vectors in the order the kernel prints them (enum in
// include/linux/interrupt.h; block_iopoll is IRQ_POLL since 4.5, same
// place).
inline constexpr const char* kSoftirqNames[] = {
    "hi",           "timer",   "net_tx", "net_rx",  "block",
    "block_iopoll", "tasklet", "sched",  "hrtimer", "rcu"};
inline constexpr int kSoftirqs = 10;

struct KernelStat {
  std::optional<std::uint64_t> interrupts;        // intr, its first number
  std::optional<std::uint64_t> context_switches;  // ctxt
  std::optional<std::uint64_t> boot_time;         // btime
  std::optional<std::uint64_t> forks;             // processes
  std::optional<std::uint64_t> procs_running;     // procs_running
  std::optional<std::uint64_t> procs_blocked;     // procs_blocked
  bool has_softirqs = false;                      // softirq
  std::uint64_t softirqs[kSoftirqs] = {};         // valid if has_softirqs
  std::vector<plugin::SkippedLine> skipped;       // in line order
};

// Parses text (the file's content); file names the file in the error.
//
// A line's key is its first whitespace-separated field. Lines with another
// key (cpu, cpuN, page, swap, a later kernel's) and blank lines are ignored
// and not reported. For intr, ctxt, btime, processes, procs_running and
// procs_blocked only the first number after the key is read, as a decimal
// uint64; the rest of the line is not looked at (intr's per-interrupt
// counts are never scanned). For softirq the first number (the total) is
// skipped and the next ten are the vectors of kSoftirqNames; numbers after
// them are not read. These lines are skipped, and recorded in out->skipped
// with their 1-based line number and a reason that names the key but not
// the file or line ("ctxt: value 'x' is not a number"): a known key with no
// value or a value that is not a decimal uint64; a softirq line with fewer
// than ten vectors (a 2.6.31 kernel's nine would be misnamed) or one of
// them not a number; a known key already read from an earlier line (the
// earlier value stays).
//
// Returns true when at least one known key was read; the others stay
// empty. Otherwise (an empty file, none of the keys, each one skipped)
// returns false and sets *error to "<file>: none of the keys intr, ctxt,
// btime, processes, procs_running, procs_blocked, softirq could be read";
// the values are then all empty and out->skipped still lists the skipped
// lines. Every value is reset first; out->skipped is cleared and keeps its
// capacity.
bool ParseKernelStat(std::string_view text, std::string_view file,
                     KernelStat* out, std::string* error);

}  // namespace sysmetrics::stat
