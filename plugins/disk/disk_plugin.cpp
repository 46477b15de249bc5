// disk.so: per-device block I/O counters from <procfs>/diskstats, and the
// devices' identity (model, serial, file system, device-mapper name) from
// udev's database, as node_exporter 1.5's diskstats collector exports them.
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <sysmetrics/plugin.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collect.hpp"
#include "diskstats.hpp"
#include "udev.hpp"

namespace sysmetrics::disk {
namespace {

const sm_option kOptions[] = {
    StringOption("exclude_pattern", "^(loop|ram|dm-)",
                 "Devices whose name matches this regular expression "
                 "(ECMAScript) are skipped."),
    StringOption("udev_data_path", "/run/udev/data",
                 "udev's database, read for sysmetrics_disk_info and the "
                 "other *_info families (an absolute path, not under "
                 "procfs; empty: not read)."),
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

// What the info families need of one device, kept from collect to collect
// so that an unchanged udev file costs one stat(2) and no read.
struct DeviceInfo {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::string major_text;  // label values
  std::string minor_text;
  std::string udev_file;  // <udev_data_path>/b<major>:<minor>
  // The udev file's identity when it was last read; udev replaces a file
  // by renaming a new one over it, so a change shows in inode or mtime.
  bool udev_read = false;
  struct stat udev_stat {};
  UdevProperties udev;
  // <sysfs>/block/<device>/dm exists: -1 not checked yet, 0 no, 1 yes.
  int dm_sysfs = -1;
  std::string dm_dir;
  std::string dm_name;  // from <dm_dir>/name, when udev has no DM_NAME
  std::string dm_uuid;
  std::uint64_t last_used = 0;  // the collect that last looked it up
};

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
         a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

std::string_view TrimNewline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return s;
}

// The udev_data_path option: absolute (it is not under the procfs root, as
// node's --path.udev.data is not), or empty for "do not read udev".
std::string UdevDir(const Host& host) {
  std::string dir = host.String("udev_data_path");
  if (!dir.empty() && dir.front() != '/') {
    throw Error("udev_data_path '" + dir + "' is not an absolute path",
                SM_ERR_CONFIG);
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// The ATA families: udev property, family, help.
struct AtaMetric {
  UdevKey key;
  const char* name;
  const char* help;
};
constexpr AtaMetric kAta[] = {
    {kIdAtaWriteCache, "sysmetrics_disk_ata_write_cache",
     "ATA disk has a write cache."},
    {kIdAtaWriteCacheEnabled, "sysmetrics_disk_ata_write_cache_enabled",
     "ATA disk has its write cache enabled."},
    {kIdAtaRotationRateRpm, "sysmetrics_disk_ata_rotation_rate_rpm",
     "ATA disk rotation rate in RPMs (0 for SSDs)."},
};
constexpr int kAtaMetrics = sizeof kAta / sizeof kAta[0];

class DiskCollector {
 public:
  explicit DiskCollector(Host& host)
      : file_(host.ProcfsRoot() + "/diskstats"),
        filter_(plugin::ExcludeFilter(host)),
        udev_dir_(UdevDir(host)),
        block_dir_(host.SysfsRoot() + "/block/") {}

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &stats_, ParseDiskStats, emit);
    filter_.BeginCollect();
    plugin::ClearForReuse(&included_);
    int widest = 0;
    for (const DiskLine& d : stats_.devices) {
      if (const char* name = filter_.Include(d.name)) {
        included_.push_back({name, &d, nullptr});
        widest = std::max(widest, d.stats);
      }
    }
    for (const Metric& m : kMetrics) {
      // Discard and flush families exist only if some line has the fields.
      if (m.stat >= widest) break;
      emit.Family(m.name, m.help, m.type, UnitOf(m.scale));
      for (const Included& i : included_) {
        const DiskLine* d = i.line;
        if (m.stat >= d->stats) continue;
        double v = static_cast<double>(d->v[m.stat]);
        if (m.scale == Scale::kSectors) v *= 512;
        if (m.scale == Scale::kMillis) v /= 1000;
        emit.Sample(v, {{"device", i.name}});
      }
    }
    ++collect_;
    // No udev database at all (most containers): one stat, not one per
    // device.
    struct stat st {};
    udev_present_ = !udev_dir_.empty() && ::stat(udev_dir_.c_str(), &st) == 0;
    for (Included& i : included_) i.info = Refresh(i);
    PruneDevices();
    EmitInfo(emit);
    EmitFilesystem(emit);
    EmitDeviceMapper(emit);
    EmitAta(emit);
  }

 private:
  struct Included {
    const char* name;  // the NameFilter's copy
    const DiskLine* line;
    DeviceInfo* info;  // in devices_
  };

  // The cached info of device i, its udev file read again if it changed.
  DeviceInfo* Refresh(const Included& i) {
    const DiskLine& d = *i.line;
    auto it = devices_.find(std::string_view(i.name));
    if (it == devices_.end()) {
      it = devices_.try_emplace(i.name).first;
    }
    DeviceInfo& info = it->second;
    info.last_used = collect_;
    if (info.major_text.empty() || info.major != d.major ||
        info.minor != d.minor) {
      info = DeviceInfo{};
      info.last_used = collect_;
      info.major = d.major;
      info.minor = d.minor;
      info.major_text = d.major_text;
      info.minor_text = d.minor_text;
      if (!udev_dir_.empty()) {
        info.udev_file =
            udev_dir_ + "/b" + info.major_text + ":" + info.minor_text;
      }
      // sysfs spells a '/' in a block device's name as '!' (cciss!c0d0).
      std::string sysfs_name = i.name;
      std::replace(sysfs_name.begin(), sysfs_name.end(), '/', '!');
      info.dm_dir = block_dir_ + sysfs_name + "/dm";
    }
    RefreshUdev(&info);
    RefreshDmSysfs(&info);
    return &info;
  }

  // A missing or unreadable udev file is no error (no udev in a container,
  // a device udev has not seen yet): the device's labels are then empty.
  void RefreshUdev(DeviceInfo* info) {
    if (info->udev_file.empty()) return;
    struct stat st {};
    if (!udev_present_ || ::stat(info->udev_file.c_str(), &st) != 0) {
      if (info->udev_read) ParseUdevData({}, &info->udev);
      info->udev_read = false;
      return;
    }
    if (info->udev_read && SameFile(st, info->udev_stat)) return;
    std::string error;
    if (plugin::ReadFileInto(info->udev_file, &udev_buf_, &error)) {
      ParseUdevData(udev_buf_, &info->udev);
      info->udev_read = true;
      info->udev_stat = st;
    } else {
      ParseUdevData({}, &info->udev);
      info->udev_read = false;
    }
  }

  // Where udev gives no DM_NAME (no udev database, as in most containers)
  // but the device is a device-mapper one, its name and uuid come from
  // <sysfs>/block/<device>/dm; vg_name, lv_name and lv_layer stay empty, as
  // only udev computes them. Whether the dm directory exists is checked once
  // per device; name and uuid are read on each collect (dmsetup rename).
  void RefreshDmSysfs(DeviceInfo* info) {
    if (!info->udev.value[kDmName].empty()) return;
    if (info->dm_sysfs < 0) {
      struct stat st {};
      info->dm_sysfs =
          ::stat(info->dm_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? 1 : 0;
    }
    info->dm_name.clear();
    info->dm_uuid.clear();
    if (info->dm_sysfs == 0) return;
    std::string error;
    if (plugin::ReadFileInto(info->dm_dir + "/name", &udev_buf_, &error)) {
      info->dm_name = TrimNewline(udev_buf_);
    }
    if (plugin::ReadFileInto(info->dm_dir + "/uuid", &udev_buf_, &error)) {
      info->dm_uuid = TrimNewline(udev_buf_);
    }
  }

  // Drops the devices no longer in diskstats (once there are any).
  void PruneDevices() {
    if (devices_.size() <= included_.size()) return;
    std::erase_if(devices_, [this](const auto& entry) {
      return entry.second.last_used != collect_;
    });
  }

  void EmitInfo(Emitter& emit) const {
    if (included_.empty()) return;
    emit.Family("sysmetrics_disk_info", "Info of /sys/block/<block_device>.",
                SM_METRIC_GAUGE);
    for (const Included& i : included_) {
      const UdevProperties& u = i.info->udev;
      emit.Sample(1, {{"device", i.name},
                      {"major", i.info->major_text.c_str()},
                      {"minor", i.info->minor_text.c_str()},
                      {"path", u.value[kIdPath].c_str()},
                      {"wwn", u.value[kIdWwn].c_str()},
                      {"model", u.value[kIdModel].c_str()},
                      {"serial", u.value[kIdSerialShort].c_str()},
                      {"revision", u.value[kIdRevision].c_str()}});
    }
  }

  void EmitFilesystem(Emitter& emit) const {
    bool begun = false;
    for (const Included& i : included_) {
      const UdevProperties& u = i.info->udev;
      if (u.value[kIdFsType].empty()) continue;
      if (!begun) {
        emit.Family("sysmetrics_disk_filesystem_info",
                    "Info about disk filesystem.", SM_METRIC_GAUGE);
        begun = true;
      }
      emit.Sample(1, {{"device", i.name},
                      {"type", u.value[kIdFsType].c_str()},
                      {"usage", u.value[kIdFsUsage].c_str()},
                      {"uuid", u.value[kIdFsUuid].c_str()},
                      {"version", u.value[kIdFsVersion].c_str()}});
    }
  }

  void EmitDeviceMapper(Emitter& emit) const {
    bool begun = false;
    for (const Included& i : included_) {
      const DeviceInfo& info = *i.info;
      const UdevProperties& u = info.udev;
      const bool from_udev = !u.value[kDmName].empty();
      if (!from_udev && info.dm_name.empty()) continue;
      if (!begun) {
        emit.Family("sysmetrics_disk_device_mapper_info",
                    "Info about disk device mapper.", SM_METRIC_GAUGE);
        begun = true;
      }
      emit.Sample(1, {{"device", i.name},
                      {"name", from_udev ? u.value[kDmName].c_str()
                                         : info.dm_name.c_str()},
                      {"uuid", from_udev ? u.value[kDmUuid].c_str()
                                         : info.dm_uuid.c_str()},
                      {"vg_name", u.value[kDmVgName].c_str()},
                      {"lv_name", u.value[kDmLvName].c_str()},
                      {"lv_layer", u.value[kDmLvLayer].c_str()}});
    }
  }

  // The ATA families, for devices whose udev entry has ID_ATA. A value that
  // is not a number gives no series and is reported as a skipped line of
  // the udev file; a property udev did not write gives no series.
  void EmitAta(Emitter& emit) {
    plugin::ClearForReuse(&ata_);
    for (const Included& i : included_) {
      const DeviceInfo& info = *i.info;
      const UdevProperties& u = info.udev;
      if (u.value[kIdAta].empty()) continue;
      AtaValues a{i.name, {}, {}};
      for (int m = 0; m < kAtaMetrics; ++m) {
        const UdevKey k = kAta[m].key;
        if (u.line[k] == 0) continue;
        a.has[m] = ParseUdevNumber(u.value[k], &a.v[m]);
        if (!a.has[m]) {
          const std::string reason = std::string(kUdevKeyNames[k]) + " '" +
                                     u.value[k].substr(0, 64) +
                                     "' is not a number";
          emit.SkipLine(info.udev_file.c_str(), u.line[k], reason.c_str());
        }
      }
      ata_.push_back(a);
    }
    for (int m = 0; m < kAtaMetrics; ++m) {
      bool begun = false;
      for (const AtaValues& a : ata_) {
        if (!a.has[m]) continue;
        if (!begun) {
          emit.Family(kAta[m].name, kAta[m].help, SM_METRIC_GAUGE);
          begun = true;
        }
        emit.Sample(a.v[m], {{"device", a.name}});
      }
    }
  }

  struct AtaValues {
    const char* name;
    double v[kAtaMetrics];
    bool has[kAtaMetrics];
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s);
    }
  };

  plugin::ProcFile file_;
  plugin::NameFilter filter_;
  std::string udev_dir_;       // "" when udev is not read
  bool udev_present_ = false;  // udev_dir_ exists, as of this collect
  std::string block_dir_;      // "<sysfs>/block/"
  std::string buf_;
  std::string udev_buf_;
  DiskStats stats_;
  std::vector<Included> included_;
  std::unordered_map<std::string, DeviceInfo, Hash, std::equal_to<>> devices_;
  std::uint64_t collect_ = 0;
  std::vector<AtaValues> ata_;
};

}  // namespace
}  // namespace sysmetrics::disk

// collect() only reads /proc, /sys and udev's database (on tmpfs) and
// computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::disk::DiskCollector, "disk", SYSMETRICS_VERSION,
    "Per-device block I/O counters, from /proc/diskstats, and device "
    "information from udev's database.",
    sysmetrics::disk::kOptions, 2, SM_PLUGIN_NONBLOCKING)
