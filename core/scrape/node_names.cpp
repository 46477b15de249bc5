#include "scrape/node_names.hpp"

#include <algorithm>

#include "memory/meminfo_fields.hpp"

namespace sysmetrics {
namespace {

// One row as written in the table below: collector, sysmetrics family (or
// prefix ending in '_'), node family (or prefix; "" for none), then what
// else differs.
struct Spec {
  const char* collector;
  const char* native;
  const char* node;
  const char* note = "";
  double scale = 1;
};

// Families whose one label is renamed: the network collectors' "interface"
// is node_exporter's "device".
constexpr const char* kInterfaceCollectors[] = {"network", "netclass"};

// In the order of README's metrics table. The memory collector's rows come
// from its own table of /proc/meminfo keys (meminfo_fields.hpp), inserted
// where the "memory" marker row stands.
constexpr Spec kSpecs[] = {
    {"cpu", "sysmetrics_cpu_seconds_total", "node_cpu_seconds_total",
     "node emits all 8 modes for every CPU, 0 for a mode the kernel does not "
     "print (kernels before 2.6.11); sysmetrics only the modes printed"},
    {"cpu", "sysmetrics_cpu_guest_seconds_total",
     "node_cpu_guest_seconds_total",
     "node emits 0 when the kernel prints no guest columns (before 2.6.24); "
     "sysmetrics nothing"},
    {"cpu", "sysmetrics_cpu_isolated", "node_cpu_isolated"},
    {"cpu", "sysmetrics_cpu_core_throttles_total",
     "node_cpu_core_throttles_total"},
    {"cpu", "sysmetrics_cpu_package_throttles_total",
     "node_cpu_package_throttles_total"},
    {"cpu", "sysmetrics_cpus_online", "", "no node equivalent"},
    {"memory", "", "", ""},  // marker: the /proc/meminfo fields
    {"memory", "sysmetrics_memory_used_bytes", "",
     "no node equivalent (total - free - buffers - cached)"},
    {"disk", "sysmetrics_disk_reads_completed_total",
     "node_disk_reads_completed_total"},
    {"disk", "sysmetrics_disk_reads_merged_total",
     "node_disk_reads_merged_total"},
    {"disk", "sysmetrics_disk_read_bytes_total", "node_disk_read_bytes_total"},
    {"disk", "sysmetrics_disk_read_time_seconds_total",
     "node_disk_read_time_seconds_total"},
    {"disk", "sysmetrics_disk_writes_completed_total",
     "node_disk_writes_completed_total"},
    {"disk", "sysmetrics_disk_writes_merged_total",
     "node_disk_writes_merged_total"},
    {"disk", "sysmetrics_disk_written_bytes_total",
     "node_disk_written_bytes_total"},
    {"disk", "sysmetrics_disk_write_time_seconds_total",
     "node_disk_write_time_seconds_total"},
    {"disk", "sysmetrics_disk_io_in_progress", "node_disk_io_now"},
    {"disk", "sysmetrics_disk_io_time_seconds_total",
     "node_disk_io_time_seconds_total"},
    {"disk", "sysmetrics_disk_io_time_weighted_seconds_total",
     "node_disk_io_time_weighted_seconds_total"},
    {"disk", "sysmetrics_disk_discards_completed_total",
     "node_disk_discards_completed_total"},
    {"disk", "sysmetrics_disk_discards_merged_total",
     "node_disk_discards_merged_total"},
    {"disk", "sysmetrics_disk_discarded_bytes_total",
     "node_disk_discarded_sectors_total", "bytes become 512-byte sectors",
     1.0 / 512},
    {"disk", "sysmetrics_disk_discard_time_seconds_total",
     "node_disk_discard_time_seconds_total"},
    {"disk", "sysmetrics_disk_flush_requests_total",
     "node_disk_flush_requests_total"},
    {"disk", "sysmetrics_disk_flush_requests_time_seconds_total",
     "node_disk_flush_requests_time_seconds_total"},
    {"disk", "sysmetrics_disk_info", "node_disk_info"},
    {"disk", "sysmetrics_disk_filesystem_info", "node_disk_filesystem_info"},
    {"disk", "sysmetrics_disk_device_mapper_info",
     "node_disk_device_mapper_info"},
    {"disk", "sysmetrics_disk_ata_write_cache", "node_disk_ata_write_cache"},
    {"disk", "sysmetrics_disk_ata_write_cache_enabled",
     "node_disk_ata_write_cache_enabled"},
    {"disk", "sysmetrics_disk_ata_rotation_rate_rpm",
     "node_disk_ata_rotation_rate_rpm"},
    {"network", "sysmetrics_network_receive_bytes_total",
     "node_network_receive_bytes_total"},
    {"network", "sysmetrics_network_receive_packets_total",
     "node_network_receive_packets_total"},
    {"network", "sysmetrics_network_receive_errors_total",
     "node_network_receive_errs_total"},
    {"network", "sysmetrics_network_receive_drop_total",
     "node_network_receive_drop_total"},
    {"network", "sysmetrics_network_receive_fifo_total",
     "node_network_receive_fifo_total"},
    {"network", "sysmetrics_network_receive_frame_total",
     "node_network_receive_frame_total"},
    {"network", "sysmetrics_network_receive_compressed_total",
     "node_network_receive_compressed_total"},
    {"network", "sysmetrics_network_receive_multicast_total",
     "node_network_receive_multicast_total"},
    {"network", "sysmetrics_network_transmit_bytes_total",
     "node_network_transmit_bytes_total"},
    {"network", "sysmetrics_network_transmit_packets_total",
     "node_network_transmit_packets_total"},
    {"network", "sysmetrics_network_transmit_errors_total",
     "node_network_transmit_errs_total"},
    {"network", "sysmetrics_network_transmit_drop_total",
     "node_network_transmit_drop_total"},
    {"network", "sysmetrics_network_transmit_fifo_total",
     "node_network_transmit_fifo_total"},
    {"network", "sysmetrics_network_transmit_collisions_total",
     "node_network_transmit_colls_total"},
    {"network", "sysmetrics_network_transmit_carrier_total",
     "node_network_transmit_carrier_total"},
    {"network", "sysmetrics_network_transmit_compressed_total",
     "node_network_transmit_compressed_total"},
    {"netclass", "sysmetrics_network_up", "node_network_up"},
    {"netclass", "sysmetrics_network_info", "node_network_info"},
    {"netclass", "sysmetrics_network_address_assign_type",
     "node_network_address_assign_type"},
    {"netclass", "sysmetrics_network_carrier", "node_network_carrier"},
    {"netclass", "sysmetrics_network_carrier_changes_total",
     "node_network_carrier_changes_total"},
    {"netclass", "sysmetrics_network_carrier_up_changes_total",
     "node_network_carrier_up_changes_total"},
    {"netclass", "sysmetrics_network_carrier_down_changes_total",
     "node_network_carrier_down_changes_total"},
    {"netclass", "sysmetrics_network_device_id", "node_network_device_id"},
    {"netclass", "sysmetrics_network_dormant", "node_network_dormant"},
    {"netclass", "sysmetrics_network_flags", "node_network_flags"},
    {"netclass", "sysmetrics_network_iface_id", "node_network_iface_id"},
    {"netclass", "sysmetrics_network_iface_link", "node_network_iface_link"},
    {"netclass", "sysmetrics_network_iface_link_mode",
     "node_network_iface_link_mode"},
    {"netclass", "sysmetrics_network_mtu_bytes", "node_network_mtu_bytes"},
    {"netclass", "sysmetrics_network_name_assign_type",
     "node_network_name_assign_type"},
    {"netclass", "sysmetrics_network_net_dev_group",
     "node_network_net_dev_group"},
    {"netclass", "sysmetrics_network_speed_bytes", "node_network_speed_bytes",
     "an unknown speed (-1) is no series; node serves -125000"},
    {"netclass", "sysmetrics_network_transmit_queue_length",
     "node_network_transmit_queue_length"},
    {"netclass", "sysmetrics_network_protocol_type",
     "node_network_protocol_type"},
    {"filesystem", "sysmetrics_filesystem_size_bytes",
     "node_filesystem_size_bytes"},
    {"filesystem", "sysmetrics_filesystem_free_bytes",
     "node_filesystem_free_bytes"},
    {"filesystem", "sysmetrics_filesystem_available_bytes",
     "node_filesystem_avail_bytes"},
    {"filesystem", "sysmetrics_filesystem_files", "node_filesystem_files"},
    {"filesystem", "sysmetrics_filesystem_files_free",
     "node_filesystem_files_free"},
    {"filesystem", "sysmetrics_filesystem_readonly",
     "node_filesystem_readonly"},
    {"filesystem", "sysmetrics_filesystem_device_error",
     "node_filesystem_device_error",
     "a mount whose statvfs does not answer in time is 1 at once; node "
     "blocks that scrape"},
    {"loadavg", "sysmetrics_load1", "node_load1"},
    {"loadavg", "sysmetrics_load5", "node_load5"},
    {"loadavg", "sysmetrics_load15", "node_load15"},
    {"pressure", "sysmetrics_pressure_cpu_waiting_seconds_total",
     "node_pressure_cpu_waiting_seconds_total"},
    {"pressure", "sysmetrics_pressure_cpu_stalled_seconds_total", "",
     "no node 1.5 equivalent (kernel 5.13+)"},
    {"pressure", "sysmetrics_pressure_io_waiting_seconds_total",
     "node_pressure_io_waiting_seconds_total"},
    {"pressure", "sysmetrics_pressure_io_stalled_seconds_total",
     "node_pressure_io_stalled_seconds_total"},
    {"pressure", "sysmetrics_pressure_memory_waiting_seconds_total",
     "node_pressure_memory_waiting_seconds_total"},
    {"pressure", "sysmetrics_pressure_memory_stalled_seconds_total",
     "node_pressure_memory_stalled_seconds_total"},
    {"pressure", "sysmetrics_pressure_irq_stalled_seconds_total", "",
     "no node 1.5 equivalent (kernel 6.1+)"},
    {"stat", "sysmetrics_interrupts_total", "node_intr_total"},
    {"stat", "sysmetrics_context_switches_total",
     "node_context_switches_total"},
    {"stat", "sysmetrics_forks_total", "node_forks_total"},
    {"stat", "sysmetrics_boot_time_seconds", "node_boot_time_seconds"},
    {"stat", "sysmetrics_procs_running", "node_procs_running"},
    {"stat", "sysmetrics_procs_blocked", "node_procs_blocked"},
    {"stat", "sysmetrics_softirqs_total", "node_softirqs_total",
     "on by default; node's is off (--collector.stat.softirq)"},
    {"vmstat", "sysmetrics_vmstat_", "node_vmstat_",
     "every field the fields option selects"},
};

bool RenamesInterface(std::string_view collector) {
  return std::find(std::begin(kInterfaceCollectors),
                   std::end(kInterfaceCollectors),
                   collector) != std::end(kInterfaceCollectors);
}

NodeNameRow RowOf(const Spec& s) {
  NodeNameRow r;
  r.collector = s.collector;
  r.native = s.native;
  r.node = s.node;
  r.prefix = r.native.ends_with('_');
  if (RenamesInterface(r.collector)) {
    r.label_from = "interface";
    r.label_to = "device";
  }
  r.scale = s.scale;
  r.note = s.note;
  return r;
}

void AddMeminfoRows(std::vector<NodeNameRow>* rows) {
  for (const memory::MeminfoField& f : memory::kMeminfoFields) {
    NodeNameRow r;
    r.collector = "memory";
    r.native = f.family;
    r.node = NodeMeminfoFamily(f.key, f.kib);
    rows->push_back(std::move(r));
  }
}

}  // namespace

Result<MetricNames> ParseMetricNames(std::string_view text) {
  if (text == "sysmetrics") return MetricNames::kSysmetrics;
  if (text == "node") return MetricNames::kNode;
  return Status::Error("\"" + std::string(text) +
                       "\" is not sysmetrics or node (node_exporter's names)");
}

std::string NodeMeminfoFamily(std::string_view key, bool kib) {
  std::string name = "node_memory_";
  for (char c : key) {
    if (c == '(') {
      name += '_';
    } else if (c != ')') {
      name += c;
    }
  }
  if (kib) name += "_bytes";
  return name;
}

NodeNameMap::NodeNameMap() {
  for (const Spec& s : kSpecs) {
    if (*s.native == '\0') {
      AddMeminfoRows(&rows_);
    } else {
      rows_.push_back(RowOf(s));
    }
  }
  for (const NodeNameRow& r : rows_) {
    if (r.node.empty()) continue;
    (r.prefix ? prefixes_ : exact_).push_back(&r);
  }
  std::sort(exact_.begin(), exact_.end(),
            [](const NodeNameRow* a, const NodeNameRow* b) {
              return a->native < b->native;
            });
  std::sort(prefixes_.begin(), prefixes_.end(),
            [](const NodeNameRow* a, const NodeNameRow* b) {
              return a->native.size() > b->native.size();
            });
}

const NodeNameMap& NodeNameMap::Get() {
  static const NodeNameMap kMap;
  return kMap;
}

const NodeNameRow* NodeNameMap::Find(std::string_view family) const {
  const auto it = std::lower_bound(
      exact_.begin(), exact_.end(), family,
      [](const NodeNameRow* r, std::string_view f) { return r->native < f; });
  if (it != exact_.end() && (*it)->native == family) return *it;
  for (const NodeNameRow* r : prefixes_) {
    if (family.size() > r->native.size() && family.starts_with(r->native)) {
      return r;
    }
  }
  return nullptr;
}

std::string NodeNameMap::NodeFamily(const NodeNameRow& row,
                                    std::string_view family) {
  if (!row.prefix) return row.node;
  return row.node + std::string(family.substr(row.native.size()));
}

const std::vector<NodeOptionDefault>& NodeOptionDefaults() {
  // node_exporter 1.5 as Debian 12 builds it (prometheus-node-exporter
  // --help): its diskstats device-exclude, netdev device-exclude (Debian's
  // patch; upstream excludes nothing) and filesystem mount-points-exclude
  // (Debian's, which also drops /run, /mnt and /media). The regular
  // expressions mean the same in RE2 and ECMAScript.
  static const std::vector<NodeOptionDefault> kDefaults = {
      {"disk", "exclude_pattern",
       R"(^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$)"},
      {"network", "exclude_pattern", "^lo$"},
      {"filesystem", "mount_points_exclude",
       "^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/"
       "storage/.+)($|/)"},
  };
  return kDefaults;
}

std::string NodeNameTableMarkdown() {
  std::string out =
      "| collector | sysmetrics family | node_exporter 1.5 family | "
      "difference |\n|---|---|---|---|\n";
  for (const NodeNameRow& r : NodeNameMap::Get().rows()) {
    const std::string star = r.prefix ? "*" : "";
    std::string diff = r.note;
    if (!r.label_from.empty()) {
      diff = "label `" + r.label_from + "` is `" + r.label_to + "`" +
             (diff.empty() ? "" : "; " + diff);
    }
    out += "| " + r.collector + " | `" + r.native + star + "` | " +
           (r.node.empty() ? std::string("—") : "`" + r.node + star + "`") +
           " | " + diff + " |\n";
  }
  return out;
}

}  // namespace sysmetrics
