// cpu.so: per-CPU time by mode from <procfs>/stat; isolated CPUs and thermal
// throttle counts from <sysfs>/devices/system/cpu.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "collect.hpp"
#include "cpu_sysfs.hpp"
#include "proc_stat.hpp"

namespace sysmetrics::cpu {
namespace {

const sm_option kOptions[] = {
    BoolOption("thermal_throttle", true,
               "Export the thermal throttle counts of each core and package "
               "(sysmetrics_cpu_core_throttles_total, "
               "sysmetrics_cpu_package_throttles_total). They cost a few "
               "sysfs reads per CPU on every scrape; turn them off on "
               "machines with many CPUs if that matters."),
};

// A number as a label value, formatted without allocating.
struct NumberLabel {
  explicit NumberLabel(std::uint64_t n) {
    *std::to_chars(text, text + sizeof text - 1, n).ptr = '\0';
  }
  char text[24] = {};
};

class CpuCollector {
 public:
  explicit CpuCollector(Host& host)
      : file_(host.ProcfsRoot() + "/stat"),
        cpu_dir_(host.SysfsRoot() + "/devices/system/cpu"),
        thermal_throttle_(host.Bool("thermal_throttle")),
        ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))) {
    if (!(ticks_per_second_ > 0)) {
      throw Error("sysconf(_SC_CLK_TCK) failed", SM_ERR);
    }
    ReadIsolated(host);
  }

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &stat_, ParseProcStat, emit);
    emit.Family("sysmetrics_cpu_seconds_total",
                "Seconds the CPU spent in each mode.", SM_METRIC_COUNTER,
                "seconds");
    bool guests = false;
    for (const CpuTimes& t : stat_.cpus) {
      const char* cpu = CpuName(t.cpu);
      for (int m = 0; m < t.modes; ++m) {
        emit.Sample(static_cast<double>(t.ticks[m]) / ticks_per_second_,
                    {{"cpu", cpu}, {"mode", kModeNames[m]}});
      }
      guests = guests || t.guest_modes > 0;
    }
    if (guests) {
      emit.Family("sysmetrics_cpu_guest_seconds_total",
                  "Seconds the CPU spent running guests (virtual CPUs) in "
                  "each mode; also counted in sysmetrics_cpu_seconds_total.",
                  SM_METRIC_COUNTER, "seconds");
      for (const CpuTimes& t : stat_.cpus) {
        for (int m = 0; m < t.guest_modes; ++m) {
          emit.Sample(static_cast<double>(t.guest_ticks[m]) / ticks_per_second_,
                      {{"cpu", CpuName(t.cpu)}, {"mode", kGuestModeNames[m]}});
        }
      }
    }
    emit.Family("sysmetrics_cpus_online",
                "Number of online CPUs (per-CPU lines in /proc/stat).",
                SM_METRIC_GAUGE);
    emit.Sample(static_cast<double>(stat_.cpus.size()));
    if (!isolated_.empty()) {
      emit.Family("sysmetrics_cpu_isolated",
                  "1 for each CPU isolated from the scheduler (isolcpus), as "
                  "sysfs listed them when the collector started.",
                  SM_METRIC_GAUGE);
      for (const std::uint32_t cpu : isolated_) {
        emit.Sample(1, {{"cpu", CpuName(cpu)}});
      }
    }
    if (thermal_throttle_) CollectThrottles(emit);
  }

 private:
  // The sysfs files of one CPU, their paths made once, and its topology
  // once read.
  struct CpuPaths {
    std::string throttle_dir;  // empty until made
    std::string package_id;
    std::string core_id;
    std::string core_throttles;
    std::string package_throttles;
    bool has_topology = false;
    std::uint64_t package = 0;
    std::uint64_t core = 0;
  };
  struct Topology {
    std::uint64_t package = 0;
    std::uint64_t core = 0;
    std::uint32_t cpu = 0;
    bool operator<(const Topology& o) const {
      return package != o.package ? package < o.package
             : core != o.core     ? core < o.core
                                  : cpu < o.cpu;
    }
  };

  // The label value for a CPU number (below kMaxCpus), made once.
  const char* CpuName(std::uint32_t cpu) {
    while (cpu_names_.size() <= cpu) {
      cpu_names_.push_back(std::to_string(cpu_names_.size()));
    }
    return cpu_names_[cpu].c_str();
  }

  CpuPaths& Paths(std::uint32_t cpu) {
    if (paths_.size() <= cpu) paths_.resize(cpu + 1);
    CpuPaths& p = paths_[cpu];
    if (p.throttle_dir.empty()) {
      const std::string dir = cpu_dir_ + "/cpu" + std::to_string(cpu);
      p.throttle_dir = dir + "/thermal_throttle";
      p.package_id = dir + "/topology/physical_package_id";
      p.core_id = dir + "/topology/core_id";
      p.core_throttles = p.throttle_dir + "/core_throttle_count";
      p.package_throttles = p.throttle_dir + "/package_throttle_count";
    }
    return p;
  }

  // A file holding one number; false when it is missing, unreadable or
  // holds anything else (physical_package_id is -1 where the platform
  // does not know): the CPU or count is then left out, as node_exporter
  // does.
  bool ReadNumber(const std::string& path, std::uint64_t* out) {
    return plugin::ReadFileInto(path, &sysfs_buf_, &sysfs_error_) &&
           ParseSysfsU64(sysfs_buf_, out);
  }

  // isolated lists the CPUs isolcpus= or nohz_full took from the scheduler
  // at boot; it cannot change while the system runs, so it is read once,
  // as node_exporter does (and again on a reload, which creates the
  // collector anew). A kernel without the file (before 4.2) or a missing
  // sysfs gives no series and no error; a file that cannot be read or
  // parsed is logged and gives no series either.
  void ReadIsolated(const Host& host) {
    const std::string path = cpu_dir_ + "/isolated";
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return;
    std::string buf;
    std::string error;
    if (!plugin::ReadFileInto(path, &buf, &error)) {
      host.Log(SM_LOG_WARN, error + "; no isolated CPUs are exported");
    } else if (!ParseCpuList(buf, &isolated_, &error)) {
      host.Log(SM_LOG_WARN,
               path + ": " + error + "; no isolated CPUs are exported");
    }
  }

  // Reads the throttle counts as node_exporter does, on every collect:
  // every cpuN directory with a thermal_throttle directory (the x86
  // therm_throt driver makes one per online CPU) and a numeric topology
  // gives its (package, core); each core's count is read from the first of
  // its CPUs that has one, and each package's likewise. A CPU without the
  // files is left out; no cpu directory gives no series. Unlike
  // node_exporter, a CPU's topology is read once and kept, and the cpu
  // directory is listed again only when the online CPUs (the cpuN lines of
  // /proc/stat) change, or after kRescanCollects collects (a driver loaded
  // later): on a machine without the driver that listing was most of the
  // cost. The counts themselves are read on every collect.
  void CollectThrottles(Emitter& emit) {
    if (ScanNeeded()) ScanThrottleDirs();
    EmitGroups(emit, true);
    EmitGroups(emit, false);
  }

  bool ScanNeeded() {
    bool same = scanned_cpus_.size() == stat_.cpus.size() &&
                ++collects_since_scan_ < kRescanCollects;
    for (std::size_t i = 0; same && i < stat_.cpus.size(); ++i) {
      same = scanned_cpus_[i] == stat_.cpus[i].cpu;
    }
    if (same) return false;
    scanned_cpus_.clear();
    for (const CpuTimes& t : stat_.cpus) scanned_cpus_.push_back(t.cpu);
    collects_since_scan_ = 0;
    return true;
  }

  void ScanThrottleDirs() {
    topology_.clear();
    DIR* dir = ::opendir(cpu_dir_.c_str());
    if (dir == nullptr) return;
    // readdir is safe on a stream no other thread uses (this one's own).
    while (const dirent* e = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe)
      const std::string_view name = e->d_name;
      std::uint64_t cpu = 0;
      if (!name.starts_with("cpu") || !plugin::ParseU64(name.substr(3), &cpu) ||
          cpu >= kMaxCpus) {
        continue;
      }
      CpuPaths& p = Paths(static_cast<std::uint32_t>(cpu));
      // One access() spares the topology reads where there is nothing to
      // count (virtual machines, CPUs without the driver).
      if (::access(p.throttle_dir.c_str(), F_OK) != 0) continue;
      // A logical CPU's package and core are the hardware's: they are read
      // until read once, not on every collect (two thirds of the reads on
      // a machine with hyperthreads).
      if (!p.has_topology) {
        p.has_topology = ReadNumber(p.package_id, &p.package) &&
                         ReadNumber(p.core_id, &p.core);
        if (!p.has_topology) continue;
      }
      topology_.push_back({p.package, p.core, static_cast<std::uint32_t>(cpu)});
    }
    ::closedir(dir);
    std::sort(topology_.begin(), topology_.end());
  }

  // One sample per core (per_core) or per package, from the first CPU of
  // the group whose count can be read.
  void EmitGroups(Emitter& emit, bool per_core) {
    bool begun = false;
    for (std::size_t i = 0; i < topology_.size();) {
      std::size_t end = i + 1;
      while (end < topology_.size() &&
             topology_[end].package == topology_[i].package &&
             (!per_core || topology_[end].core == topology_[i].core)) {
        ++end;
      }
      for (std::size_t k = i; k < end; ++k) {
        const CpuPaths& p = Paths(topology_[k].cpu);
        std::uint64_t count = 0;
        if (!ReadNumber(per_core ? p.core_throttles : p.package_throttles,
                        &count)) {
          continue;
        }
        if (!begun) {
          begun = true;
          if (per_core) {
            emit.Family("sysmetrics_cpu_core_throttles_total",
                        "Times a CPU core was throttled because it ran too "
                        "hot (thermal_throttle/core_throttle_count).",
                        SM_METRIC_COUNTER);
          } else {
            emit.Family("sysmetrics_cpu_package_throttles_total",
                        "Times a CPU package was throttled because it ran too "
                        "hot (thermal_throttle/package_throttle_count).",
                        SM_METRIC_COUNTER);
          }
        }
        const NumberLabel package(topology_[i].package);
        if (per_core) {
          const NumberLabel core(topology_[i].core);
          emit.Sample(static_cast<double>(count),
                      {{"package", package.text}, {"core", core.text}});
        } else {
          emit.Sample(static_cast<double>(count), {{"package", package.text}});
        }
        break;
      }
      i = end;
    }
  }

  plugin::ProcFile file_;
  std::string cpu_dir_;  // <sysfs>/devices/system/cpu
  bool thermal_throttle_;
  double ticks_per_second_;
  std::string buf_;
  ProcStat stat_;
  std::vector<std::string> cpu_names_;  // by CPU number
  std::vector<std::uint32_t> isolated_;
  std::vector<CpuPaths> paths_;  // by CPU number
  std::vector<Topology> topology_;
  static constexpr int kRescanCollects = 60;
  std::vector<std::uint32_t> scanned_cpus_;  // online CPUs at the last scan
  int collects_since_scan_ = 0;
  std::string sysfs_buf_;
  std::string sysfs_error_;
};

}  // namespace
}  // namespace sysmetrics::cpu

// collect() only reads /proc and /sys files and computes: safe to run
// inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::cpu::CpuCollector, "cpu", SYSMETRICS_VERSION,
    "Per-CPU time by mode, from /proc/stat; isolated CPUs "
    "and thermal throttle counts, from sysfs.",
    sysmetrics::cpu::kOptions, 1, SM_PLUGIN_NONBLOCKING)
