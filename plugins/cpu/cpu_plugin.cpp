// cpu.so: per-CPU time by mode from <procfs>/stat.
#include <unistd.h>

#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "collect.hpp"
#include "proc_stat.hpp"

namespace sysmetrics::cpu {
namespace {

class CpuCollector {
 public:
  explicit CpuCollector(Host& host)
      : file_(host.ProcfsRoot() + "/stat"),
        ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))) {
    if (!(ticks_per_second_ > 0)) {
      throw Error("sysconf(_SC_CLK_TCK) failed", SM_ERR);
    }
  }

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &stat_, ParseProcStat, emit);
    // Label values for CPU numbers, made once per CPU ever seen.
    for (const CpuTimes& t : stat_.cpus) {
      while (cpu_names_.size() <= t.cpu) {
        cpu_names_.push_back(std::to_string(cpu_names_.size()));
      }
    }
    emit.Family("sysmetrics_cpu_seconds_total",
                "Seconds the CPU spent in each mode.", SM_METRIC_COUNTER,
                "seconds");
    for (const CpuTimes& t : stat_.cpus) {
      for (int m = 0; m < t.modes; ++m) {
        emit.Sample(
            static_cast<double>(t.ticks[m]) / ticks_per_second_,
            {{"cpu", cpu_names_[t.cpu].c_str()}, {"mode", kModeNames[m]}});
      }
    }
    emit.Family("sysmetrics_cpus_online",
                "Number of online CPUs (per-CPU lines in /proc/stat).",
                SM_METRIC_GAUGE);
    emit.Sample(static_cast<double>(stat_.cpus.size()));
  }

 private:
  plugin::ProcFile file_;
  double ticks_per_second_;
  std::string buf_;
  ProcStat stat_;
  std::vector<std::string> cpu_names_;
};

}  // namespace
}  // namespace sysmetrics::cpu

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(sysmetrics::cpu::CpuCollector, "cpu",
                                 SYSMETRICS_VERSION,
                                 "Per-CPU time by mode, from /proc/stat.",
                                 nullptr, 0, SM_PLUGIN_NONBLOCKING)
