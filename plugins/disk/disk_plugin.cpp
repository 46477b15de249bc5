// disk.so: per-device block I/O counters from <procfs>/diskstats.
#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "collect.hpp"
#include "diskstats.hpp"

namespace sysmetrics::disk {
namespace {

const sm_option kOptions[] = {
    StringOption("exclude_pattern", "^(loop|ram|dm-)",
                 "Devices whose name matches this regular expression "
                 "(ECMAScript) are skipped."),
};

enum class Scale { kCount, kSectors, kMillis };

struct Metric {
  const char* name;
  const char* help;
  int stat;  // index into DiskLine::v
  Scale scale;
  sm_metric_type type;
};

// Every field the kernel gives, as node_exporter's diskstats collector
// reports them, in file order.
constexpr Metric kMetrics[] = {
    {"sysmetrics_disk_reads_completed_total", "Reads completed.", 0,
     Scale::kCount, SM_METRIC_COUNTER},
    {"sysmetrics_disk_reads_merged_total", "Adjacent reads merged.", 1,
     Scale::kCount, SM_METRIC_COUNTER},
    {"sysmetrics_disk_read_bytes_total", "Bytes read.", 2, Scale::kSectors,
     SM_METRIC_COUNTER},
    {"sysmetrics_disk_read_time_seconds_total", "Time spent reading.", 3,
     Scale::kMillis, SM_METRIC_COUNTER},
    {"sysmetrics_disk_writes_completed_total", "Writes completed.", 4,
     Scale::kCount, SM_METRIC_COUNTER},
    {"sysmetrics_disk_writes_merged_total", "Adjacent writes merged.", 5,
     Scale::kCount, SM_METRIC_COUNTER},
    {"sysmetrics_disk_written_bytes_total", "Bytes written.", 6,
     Scale::kSectors, SM_METRIC_COUNTER},
    {"sysmetrics_disk_write_time_seconds_total", "Time spent writing.", 7,
     Scale::kMillis, SM_METRIC_COUNTER},
    {"sysmetrics_disk_io_in_progress", "I/Os currently in progress.", 8,
     Scale::kCount, SM_METRIC_GAUGE},
    {"sysmetrics_disk_io_time_seconds_total", "Time spent doing I/Os.", 9,
     Scale::kMillis, SM_METRIC_COUNTER},
    {"sysmetrics_disk_io_time_weighted_seconds_total",
     "Time spent doing I/Os, weighted by the number in progress.", 10,
     Scale::kMillis, SM_METRIC_COUNTER},
    {"sysmetrics_disk_discards_completed_total", "Discards completed.", 11,
     Scale::kCount, SM_METRIC_COUNTER},
    {"sysmetrics_disk_discards_merged_total", "Adjacent discards merged.", 12,
     Scale::kCount, SM_METRIC_COUNTER},
    {"sysmetrics_disk_discarded_bytes_total", "Bytes discarded.", 13,
     Scale::kSectors, SM_METRIC_COUNTER},
    {"sysmetrics_disk_discard_time_seconds_total", "Time spent discarding.", 14,
     Scale::kMillis, SM_METRIC_COUNTER},
    {"sysmetrics_disk_flush_requests_total", "Flush requests completed.", 15,
     Scale::kCount, SM_METRIC_COUNTER},
    {"sysmetrics_disk_flush_requests_time_seconds_total",
     "Time spent flushing.", 16, Scale::kMillis, SM_METRIC_COUNTER},
};

const char* UnitOf(Scale s) {
  switch (s) {
    case Scale::kSectors:
      return "bytes";
    case Scale::kMillis:
      return "seconds";
    case Scale::kCount:
      break;
  }
  return nullptr;
}

class DiskCollector {
 public:
  explicit DiskCollector(Host& host)
      : file_(host.ProcfsRoot() + "/diskstats"),
        filter_(plugin::ExcludeFilter(host)) {}

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &stats_, ParseDiskStats, emit);
    filter_.BeginCollect();
    plugin::ClearForReuse(&included_);
    int widest = 0;
    for (const DiskLine& d : stats_.devices) {
      if (const char* name = filter_.Include(d.name)) {
        included_.emplace_back(name, &d);
        widest = std::max(widest, d.stats);
      }
    }
    for (const Metric& m : kMetrics) {
      // Discard and flush families exist only if some line has the fields.
      if (m.stat >= widest) break;
      emit.Family(m.name, m.help, m.type, UnitOf(m.scale));
      for (const auto& [name, d] : included_) {
        if (m.stat >= d->stats) continue;
        double v = static_cast<double>(d->v[m.stat]);
        if (m.scale == Scale::kSectors) v *= 512;
        if (m.scale == Scale::kMillis) v /= 1000;
        emit.Sample(v, {{"device", name}});
      }
    }
  }

 private:
  plugin::ProcFile file_;
  plugin::NameFilter filter_;
  std::string buf_;
  DiskStats stats_;
  std::vector<std::pair<const char*, const DiskLine*>> included_;
};

}  // namespace
}  // namespace sysmetrics::disk

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::disk::DiskCollector, "disk", SYSMETRICS_VERSION,
    "Per-device block I/O counters, from /proc/diskstats.",
    sysmetrics::disk::kOptions, 1, SM_PLUGIN_NONBLOCKING)
