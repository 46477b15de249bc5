// filesystem.so: size, free space and inodes of each mounted filesystem,
// from <procfs>/self/mountinfo and statfs(2) on each mount point.
//
// statfs can block for as long as the filesystem wants (a dead NFS server):
// the calls run on the StatRunner's workers with a deadline, and a mount
// whose call is stuck is reported with device_error 1 and not called again
// until the call returns (stat_runner.hpp). Not SM_PLUGIN_NONBLOCKING.
//
// Built a second time for tests as SYSMETRICS_FILESYSTEM_HANG: the same
// plugin whose statfs never returns on a mount point ending in "/hang".
#include <array>
#include <cstdio>
#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "collect.hpp"
#include "filesystem_scan.hpp"
#include "mountinfo.hpp"

#ifdef SYSMETRICS_FILESYSTEM_HANG
#include <chrono>
#include <thread>
#endif

namespace sysmetrics::filesystem {
namespace {

// The longest mount_timeout_seconds accepted: a scrape's own deadline is
// seconds, and a longer wait only delays the verdict.
constexpr double kMaxMountTimeout = 60;

// std::array, not a C array: clang-analyzer's padding check flags a C array
// of more than three sm_option (8 bytes of padding each, a layout the ABI
// cannot change).
const std::array<sm_option, 4> kOptions = {
    StringOption("mount_points_exclude", kDefaultMountPointsExclude,
                 "Mount points (after the rootfs prefix is stripped) that "
                 "match this regular expression (ECMAScript) are skipped."),
    StringOption("fs_types_exclude", kDefaultFsTypesExclude,
                 "Filesystem types that match this regular expression "
                 "(ECMAScript) are skipped."),
    StringOption("rootfs", "/",
                 "Where the host's root filesystem is mounted (in a "
                 "container): mount points under it are statted there and "
                 "reported with the prefix stripped; others are skipped."),
    DoubleOption("mount_timeout_seconds", 1.0,
                 "How long a collect waits for the statfs calls of all "
                 "mounts; a mount whose call has not returned is reported "
                 "with device_error 1 and not called again until it "
                 "returns."),
};

#ifdef SYSMETRICS_FILESYSTEM_HANG
int HangingStat(const std::string& path, FsStats* out) {
  constexpr std::string_view kHang = "/hang";
  if (path.size() >= kHang.size() &&
      path.compare(path.size() - kHang.size(), kHang.size(), kHang) == 0) {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  return StatFs(path, out);
}
#endif

StatFn PluginStat() {
#ifdef SYSMETRICS_FILESYSTEM_HANG
  return HangingStat;
#else
  return StatFs;
#endif
}

FsConfig ReadConfig(const Host& host) {
  FsConfig c;
  c.mount_points_exclude = host.String("mount_points_exclude");
  c.fs_types_exclude = host.String("fs_types_exclude");
  c.rootfs = host.String("rootfs");
  const double timeout = host.Double("mount_timeout_seconds");
  if (!(timeout > 0) || !(timeout <= kMaxMountTimeout)) {
    char value[32];
    std::snprintf(value, sizeof value, "%g", timeout);
    throw Error(
        std::string("mount_timeout_seconds must be above 0 and at most 60, "
                    "not ") +
            value,
        SM_ERR_CONFIG);
  }
  c.mount_timeout = std::chrono::duration<double>(timeout);
  if (c.rootfs.empty() || c.rootfs.front() != '/') {
    throw Error("rootfs '" + c.rootfs + "' is not an absolute path",
                SM_ERR_CONFIG);
  }
  for (const auto* key : {"mount_points_exclude", "fs_types_exclude"}) {
    const std::string pattern = host.String(key);
    try {
      plugin::NameFilter check(host, pattern);
    } catch (const Error& e) {
      throw Error(std::string(key) + " '" + pattern +
                      "' is not a valid regular expression: " + e.what(),
                  SM_ERR_CONFIG);
    }
  }
  return c;
}

struct Family {
  const char* name;
  const char* help;
  const char* unit;
};

constexpr Family kSize{"sysmetrics_filesystem_size_bytes",
                       "Filesystem size in bytes.", "bytes"};
constexpr Family kFree{"sysmetrics_filesystem_free_bytes",
                       "Filesystem free space in bytes.", "bytes"};
constexpr Family kAvail{
    "sysmetrics_filesystem_available_bytes",
    "Filesystem space available to non-root users in bytes.", "bytes"};
constexpr Family kFiles{"sysmetrics_filesystem_files",
                        "Filesystem total file nodes.", nullptr};
constexpr Family kFilesFree{"sysmetrics_filesystem_files_free",
                            "Filesystem total free file nodes.", nullptr};
constexpr Family kReadonly{"sysmetrics_filesystem_readonly",
                           "Filesystem read-only status.", nullptr};
constexpr Family kDeviceError{
    "sysmetrics_filesystem_device_error",
    "Whether an error occurred while getting statistics for the given "
    "device (1 also while its statfs call is stuck).",
    nullptr};

class FilesystemCollector {
 public:
  explicit FilesystemCollector(Host& host)
      : host_(&host),
        file_(host.ProcfsRoot() + "/self/mountinfo"),
        scan_(ReadConfig(host), host, PluginStat(), StuckPaths::Process()) {}

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &mounts_, ParseMountInfo, emit);
    events_.clear();
    scan_.Scan(mounts_, &rows_, &events_);
    for (const FsEvent& e : events_) {
      host_->Log(e.warning ? SM_LOG_WARN : SM_LOG_INFO, e.message);
    }
    EmitStat(emit, kSize, [](const FsStats& s) {
      return static_cast<double>(s.blocks) * static_cast<double>(s.bsize);
    });
    EmitStat(emit, kFree, [](const FsStats& s) {
      return static_cast<double>(s.bfree) * static_cast<double>(s.bsize);
    });
    EmitStat(emit, kAvail, [](const FsStats& s) {
      return static_cast<double>(s.bavail) * static_cast<double>(s.bsize);
    });
    EmitStat(emit, kFiles,
             [](const FsStats& s) { return static_cast<double>(s.files); });
    EmitStat(emit, kFilesFree,
             [](const FsStats& s) { return static_cast<double>(s.ffree); });
    // readonly comes from mountinfo, so it is known for every mount, also
    // one whose statfs failed or is stuck, and is exported for it. Unlike
    // node_exporter 1.5, whose Update (collector/filesystem_common.go of the
    // kingpin.v2/go-kit era) emits device_error and then skips everything
    // else, readonly included, for a mount with an error; later upstream
    // versions emit readonly before that skip, as this does.
    EmitAll(emit, kReadonly,
            [](const FsRow& r) { return r.readonly ? 1.0 : 0.0; });
    EmitAll(emit, kDeviceError, [](const FsRow& r) {
      return r.stat.state == StatState::kOk ? 0.0 : 1.0;
    });
  }

 private:
  template <class F>
  void EmitStat(Emitter& emit, const Family& f, F value) {
    emit.Family(f.name, f.help, SM_METRIC_GAUGE, f.unit);
    for (const FsRow& r : rows_) {
      if (r.stat.state != StatState::kOk) continue;
      Sample(emit, r, value(r.stat.stats));
    }
  }

  template <class F>
  void EmitAll(Emitter& emit, const Family& f, F value) {
    emit.Family(f.name, f.help, SM_METRIC_GAUGE, f.unit);
    for (const FsRow& r : rows_) Sample(emit, r, value(r));
  }

  static void Sample(Emitter& emit, const FsRow& r, double v) {
    emit.Sample(v, {{"device", r.device.c_str()},
                    {"mountpoint", r.mount_point.c_str()},
                    {"fstype", r.fs_type.c_str()}});
  }

  Host* host_;
  plugin::ProcFile file_;
  FilesystemScan scan_;
  std::string buf_;
  MountInfo mounts_;
  std::vector<FsRow> rows_;
  std::vector<FsEvent> events_;
};

}  // namespace
}  // namespace sysmetrics::filesystem

// collect() reads /proc and waits for its own statfs workers at most
// mount_timeout_seconds (1 s by default), a bound it keeps whatever a mount
// does: SM_PLUGIN_NONBLOCKING, so it runs on the scraping thread and a
// scrape does not pay the hand-off to the collector pool on top of the one
// to the workers. A hang that outlasts a scrape's deadline (a
// mount_timeout_seconds above the scrape timeout) moves it to the pool.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::filesystem::FilesystemCollector, "filesystem",
    SYSMETRICS_VERSION,
    "Size, free space and inodes of mounted filesystems, from "
    "/proc/self/mountinfo and statfs.",
    sysmetrics::filesystem::kOptions.data(),
    sysmetrics::filesystem::kOptions.size(), SM_PLUGIN_NONBLOCKING)
