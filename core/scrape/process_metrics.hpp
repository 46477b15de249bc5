// The exporter's own process metrics, as every official Prometheus client
// library serves them (client_golang's process collector, through
// prometheus/procfs): process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds.
//
// They describe this process, so they are read from the real /proc/self,
// whatever --procfs points the collectors at. /proc/self/stat is opened
// once and read again with pread on each scrape; the open descriptors are
// those of /proc/self/fd (its size since Linux 6.2, else listed); the soft
// RLIMIT_NOFILE is the maximum (what
// /proc/self/limits shows); the start time is worked out once, from the
// process' start in clock ticks after boot and the boot time in /proc/stat.
#pragma once

#include <string_view>

#include "scrape/metric_set.hpp"
#include "util/status.hpp"

namespace sysmetrics {

// One reading of /proc/self/stat, in the units of the metrics.
struct ProcessStat {
  double cpu_seconds = 0;  // utime + stime
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_ticks = 0;  // clock ticks after boot
};

// Parses the content of /proc/<pid>/stat. The command name (field 2) may
// hold spaces and parentheses: the fields are counted from its last ')'.
// An error, saying which, when the text has too few fields or one is not
// a number.
Result<ProcessStat> ParseProcessStat(std::string_view text,
                                     double ticks_per_second,
                                     double page_bytes);

// The descriptors this process has open (process_open_fds), or -1. With
// use_size, and since Linux 6.2, the size stat gives /proc/self/fd (about
// 2 µs); else, or before, its entries are listed and counted (about 0.4 µs
// per descriptor: 45 µs for the 110 or so the exporter holds, most of them
// netclass'), less the one used to list them.
double CountOpenFds(bool use_size);

class ProcessMetrics {
 public:
  ProcessMetrics();
  ~ProcessMetrics();
  ProcessMetrics(const ProcessMetrics&) = delete;
  ProcessMetrics& operator=(const ProcessMetrics&) = delete;

  // Adds the six families to set (their names are host families:
  // name_ownership.hpp). A value that cannot be read leaves its family
  // out. Thread-safe: scrapes call it concurrently.
  void Append(MetricSet* set) const;

 private:
  int stat_fd_ = -1;  // /proc/self/stat
  double ticks_per_second_;
  double page_bytes_;
  double start_time_ = -1;  // seconds since the epoch; -1 when unknown
};

}  // namespace sysmetrics
