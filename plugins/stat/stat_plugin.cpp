// stat.so: kernel-wide counters from <procfs>/stat (interrupts, context
// switches, forks, boot time, runnable and blocked tasks, softirqs); the
// per-CPU lines of the same file are cpu.so's.
#include <string>
#include <sysmetrics/plugin.hpp>

#include "collect.hpp"
#include "kernel_stat.hpp"

namespace sysmetrics::stat {
namespace {

class StatCollector {
 public:
  explicit StatCollector(Host& host) : file_(host.ProcfsRoot() + "/stat") {}

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &stat_, ParseKernelStat, emit);
    // A key this kernel does not print leaves its metric out.
    auto one = [&](const char* name, const char* help, sm_metric_type type,
                   const std::optional<std::uint64_t>& v,
                   const char* unit = nullptr) {
      if (!v) return;
      emit.Family(name, help, type, unit);
      emit.Sample(static_cast<double>(*v));
    };
    one("sysmetrics_interrupts_total", "Interrupts serviced (intr).",
        SM_METRIC_COUNTER, stat_.interrupts);
    one("sysmetrics_context_switches_total", "Context switches (ctxt).",
        SM_METRIC_COUNTER, stat_.context_switches);
    one("sysmetrics_forks_total", "Processes and threads created (processes).",
        SM_METRIC_COUNTER, stat_.forks);
    one("sysmetrics_boot_time_seconds",
        "Boot time, seconds since the Unix epoch (btime).", SM_METRIC_GAUGE,
        stat_.boot_time, "seconds");
    one("sysmetrics_procs_running",
        "Tasks runnable or running now (procs_running).", SM_METRIC_GAUGE,
        stat_.procs_running);
    one("sysmetrics_procs_blocked",
        "Tasks blocked waiting for I/O now (procs_blocked).", SM_METRIC_GAUGE,
        stat_.procs_blocked);
    if (stat_.has_softirqs) {
      emit.Family("sysmetrics_softirqs_total",
                  "Softirqs serviced, by vector (softirq).", SM_METRIC_COUNTER);
      for (int i = 0; i < kSoftirqs; ++i) {
        emit.Sample(static_cast<double>(stat_.softirqs[i]),
                    {{"vector", kSoftirqNames[i]}});
      }
    }
  }

 private:
  plugin::ProcFile file_;
  std::string buf_;
  KernelStat stat_;
};

}  // namespace
}  // namespace sysmetrics::stat

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::stat::StatCollector, "stat", SYSMETRICS_VERSION,
    "Kernel-wide counters (interrupts, context switches, forks, boot time, "
    "tasks, softirqs), from /proc/stat.",
    nullptr, 0, SM_PLUGIN_NONBLOCKING)
