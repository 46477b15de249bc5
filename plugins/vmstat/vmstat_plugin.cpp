// vmstat.so: the <procfs>/vmstat counters whose names match the "fields"
// pattern, one untyped family each.
#include <string>
#include <sysmetrics/plugin.hpp>

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
    // The pattern is matched once per name ever seen, never per scrape.
    fields_.BeginCollect();
    for (const VmStatField& f : stat_.fields) {
      if (fields_.Include(f.name) == nullptr) continue;
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
};

}  // namespace
}  // namespace sysmetrics::vmstat

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::vmstat::VmStatCollector, "vmstat", SYSMETRICS_VERSION,
    "Virtual memory counters chosen by a pattern, from /proc/vmstat.",
    sysmetrics::vmstat::kOptions, 1, SM_PLUGIN_NONBLOCKING)
