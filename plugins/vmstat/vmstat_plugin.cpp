// vmstat.so: the <procfs>/vmstat counters whose names match the "fields"
// pattern, one untyped family each.
#include <cstddef>
#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "collect.hpp"
#include "vmstat.hpp"

namespace sysmetrics::vmstat {
namespace {

// node_exporter's default for its vmstat collector: OOM kills, paging and
// swapping, page faults.
const sm_option kOptions[] = {
    StringOption("fields", "^(oom_kill|pgpg|pswp|pg.*fault).*",
                 "Fields of /proc/vmstat whose name matches this regular "
                 "expression (ECMAScript, searched anywhere in the name) are "
                 "exported as sysmetrics_vmstat_<name>."),
};

constexpr std::string_view kPrefix = "sysmetrics_vmstat_";

class VmStatCollector {
 public:
  explicit VmStatCollector(Host& host)
      : file_(host.ProcfsRoot() + "/vmstat"),
        fields_(plugin::PatternOption(host, "fields",
                                      plugin::NameFilter::Mode::kKeepMatching)),
        name_(kPrefix) {}

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &stat_, ParseVmStat, emit);
    // The pattern is matched once per name ever seen, never per scrape;
    // while the kernel prints the same names (nearly always), the verdicts
    // are kept per line and not even looked up.
    if (!stat_.same_names || keep_.size() != stat_.fields.size()) {
      fields_.BeginCollect();
      keep_.clear();
      for (const VmStatField& f : stat_.fields) {
        keep_.push_back(fields_.Include(f.name) != nullptr);
      }
    }
    for (std::size_t i = 0; i < stat_.fields.size(); ++i) {
      if (!keep_[i]) continue;
      const VmStatField& f = stat_.fields[i];
      // Untyped as in node_exporter: some of these count up, some are
      // levels, and the kernel does not say which.
      name_.resize(kPrefix.size());
      name_.append(f.name);
      help_.assign("/proc/vmstat field ").append(f.name).append(".");
      emit.Family(name_.c_str(), help_.c_str(), SM_METRIC_UNTYPED);
      emit.Sample(static_cast<double>(f.value));
    }
  }

 private:
  plugin::ProcFile file_;
  plugin::NameFilter fields_;
  std::string buf_;
  std::string name_;  // the family being emitted: name and help, reused
  std::string help_;
  VmStat stat_;
  std::vector<bool> keep_;  // the pattern's verdict on each of stat_.fields
};

}  // namespace
}  // namespace sysmetrics::vmstat

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::vmstat::VmStatCollector, "vmstat", SYSMETRICS_VERSION,
    "Virtual memory counters chosen by a pattern, from /proc/vmstat.",
    sysmetrics::vmstat::kOptions, 1, SM_PLUGIN_NONBLOCKING)
