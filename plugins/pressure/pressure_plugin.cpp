// pressure.so: pressure stall information (PSI) from <procfs>/pressure/.
#include <linux/magic.h>
#include <sys/statfs.h>

#include <cerrno>
#include <string>
#include <sysmetrics/plugin.hpp>

#include "collect.hpp"
#include "psi.hpp"

namespace sysmetrics::pressure {
namespace {

// One file under <procfs>/pressure and the families its lines become; a
// nullptr family is a line the file has no metric for (irq has no "some").
struct Resource {
  const char* file;
  const char* some_name;
  const char* some_help;
  const char* full_name;
  const char* full_help;
};

constexpr Resource kResources[] = {
    {"cpu", "sysmetrics_pressure_cpu_waiting_seconds_total",
     "Time at least one task waited for a CPU (PSI cpu some).",
     "sysmetrics_pressure_cpu_stalled_seconds_total",
     "Time all non-idle tasks waited for a CPU at once (PSI cpu full, "
     "Linux 5.13+)."},
    {"io", "sysmetrics_pressure_io_waiting_seconds_total",
     "Time at least one task waited for I/O (PSI io some).",
     "sysmetrics_pressure_io_stalled_seconds_total",
     "Time all non-idle tasks waited for I/O at once (PSI io full)."},
    {"memory", "sysmetrics_pressure_memory_waiting_seconds_total",
     "Time at least one task waited for memory (PSI memory some).",
     "sysmetrics_pressure_memory_stalled_seconds_total",
     "Time all non-idle tasks waited for memory at once (PSI memory full)."},
    {"irq", nullptr, nullptr, "sysmetrics_pressure_irq_stalled_seconds_total",
     "Time all non-idle tasks were stalled by interrupt handling (PSI irq "
     "full, Linux 6.1+)."},
};
constexpr std::size_t kNumResources = std::size(kResources);

// A read failure that means the kernel has no such PSI file: ENOENT for a
// kernel without CONFIG_PSI (no pressure/ directory) or without irq
// accounting (no pressure/irq); EOPNOTSUPP (== ENOTSUP on Linux) when the
// file exists but PSI was disabled at boot (psi=0) or irq time accounting
// is off. Not an error: those families are simply absent.
bool Absent(int err) { return err == ENOENT || err == EOPNOTSUPP; }

class PressureCollector {
 public:
  explicit PressureCollector(Host& host)
      : files_{plugin::ProcFile(host.ProcfsRoot() + "/pressure/cpu"),
               plugin::ProcFile(host.ProcfsRoot() + "/pressure/io"),
               plugin::ProcFile(host.ProcfsRoot() + "/pressure/memory"),
               plugin::ProcFile(host.ProcfsRoot() + "/pressure/irq")},
        on_procfs_(OnProcfs(host.ProcfsRoot())) {}

  void Collect(Emitter& emit) {
    // Everything is read before anything is emitted: a file that fails
    // fails the collect whole.
    bool present[kNumResources] = {};
    std::string error;
    for (std::size_t i = 0; i < kNumResources; ++i) {
      if (missing_[i]) continue;
      plugin::ProcFile& file = files_[i];
      if (!file.Read(&buf_, &error)) {
        // The kernel makes its PSI files at boot (psi_proc_init): one that
        // is not on procfs now never will be, so it is not looked up again
        // (a failed lookup in /proc costs more than a read). A fixture tree
        // is looked up on every collect.
        if (on_procfs_ && file.error_number() == ENOENT) missing_[i] = true;
        if (Absent(file.error_number())) continue;
        throw Error(error, SM_ERR_IO);
      }
      plugin::ParseAndReport(buf_, file.path(), &psi_[i], ParsePsi, emit);
      present[i] = true;
    }
    for (std::size_t i = 0; i < kNumResources; ++i) {
      if (!present[i]) continue;
      const Resource& r = kResources[i];
      Counter(emit, r.some_name, r.some_help, psi_[i].some_us);
      Counter(emit, r.full_name, r.full_help, psi_[i].full_us);
    }
  }

 private:
  static void Counter(Emitter& emit, const char* name, const char* help,
                      const std::optional<std::uint64_t>& us) {
    if (name == nullptr || !us) return;
    emit.Family(name, help, SM_METRIC_COUNTER, "seconds");
    emit.Sample(static_cast<double>(*us) / 1e6);
  }

  static bool OnProcfs(const std::string& root) {
    struct statfs fs {};
    return ::statfs(root.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
  }

  plugin::ProcFile files_[kNumResources];
  const bool on_procfs_;
  bool missing_[kNumResources] = {};  // ENOENT on procfs: not read again
  Psi psi_[kNumResources];
  std::string buf_;
};

}  // namespace
}  // namespace sysmetrics::pressure

// collect() only reads /proc files and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::pressure::PressureCollector, "pressure", SYSMETRICS_VERSION,
    "Pressure stall information (PSI), from /proc/pressure/.", nullptr, 0,
    SM_PLUGIN_NONBLOCKING)
