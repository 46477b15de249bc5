// network.so: per-interface network counters from <procfs>/net/dev.
#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "collect.hpp"
#include "net_dev.hpp"

namespace sysmetrics::network {
namespace {

const sm_option kOptions[] = {
    StringOption("exclude_pattern", "^(lo|veth)",
                 "Interfaces whose name matches this regular expression "
                 "(ECMAScript) are skipped."),
};

struct Metric {
  const char* name;
  const char* help;
  const char* unit;
};

// In the column order of the file.
constexpr Metric kMetrics[kCounters] = {
    {"sysmetrics_network_receive_bytes_total", "Bytes received.", "bytes"},
    {"sysmetrics_network_receive_packets_total", "Packets received.", nullptr},
    {"sysmetrics_network_receive_errors_total", "Receive errors.", nullptr},
    {"sysmetrics_network_receive_drop_total", "Received packets dropped.",
     nullptr},
    {"sysmetrics_network_receive_fifo_total", "Receive FIFO overruns.",
     nullptr},
    {"sysmetrics_network_receive_frame_total", "Receive framing errors.",
     nullptr},
    {"sysmetrics_network_receive_compressed_total",
     "Compressed packets received.", nullptr},
    {"sysmetrics_network_receive_multicast_total",
     "Multicast packets received.", nullptr},
    {"sysmetrics_network_transmit_bytes_total", "Bytes sent.", "bytes"},
    {"sysmetrics_network_transmit_packets_total", "Packets sent.", nullptr},
    {"sysmetrics_network_transmit_errors_total", "Transmit errors.", nullptr},
    {"sysmetrics_network_transmit_drop_total", "Sent packets dropped.",
     nullptr},
    {"sysmetrics_network_transmit_fifo_total", "Transmit FIFO overruns.",
     nullptr},
    {"sysmetrics_network_transmit_collisions_total", "Collisions detected.",
     nullptr},
    {"sysmetrics_network_transmit_carrier_total", "Carrier losses.", nullptr},
    {"sysmetrics_network_transmit_compressed_total", "Compressed packets sent.",
     nullptr},
};

class NetworkCollector {
 public:
  explicit NetworkCollector(Host& host)
      : file_(host.ProcfsRoot() + "/net/dev"),
        filter_(plugin::ExcludeFilter(host)) {}

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &dev_, ParseNetDev, emit);
    filter_.BeginCollect();
    plugin::ClearForReuse(&included_);
    for (const InterfaceLine& i : dev_.interfaces) {
      if (const char* name = filter_.Include(i.name)) {
        included_.emplace_back(name, &i);
      }
    }
    for (int c = 0; c < kCounters; ++c) {
      const Metric& m = kMetrics[c];
      emit.Family(m.name, m.help, SM_METRIC_COUNTER, m.unit);
      for (const auto& [name, i] : included_) {
        emit.Sample(static_cast<double>(i->v[c]), {{"interface", name}});
      }
    }
  }

 private:
  plugin::ProcFile file_;
  plugin::NameFilter filter_;
  std::string buf_;
  NetDev dev_;
  std::vector<std::pair<const char*, const InterfaceLine*>> included_;
};

}  // namespace
}  // namespace sysmetrics::network

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::network::NetworkCollector, "network", SYSMETRICS_VERSION,
    "Per-interface network counters, from /proc/net/dev.",
    sysmetrics::network::kOptions, 1, SM_PLUGIN_NONBLOCKING)
