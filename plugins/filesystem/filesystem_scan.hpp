// FilesystemScan: what the filesystem collector reports, from a parsed
// mountinfo to one row per (device, mountpoint, fstype), without the plugin
// ABI around it, so that tests can run it on a fixture mount table and real
// directories.
//
// Per collect: mounts whose type matches fs_types_exclude, or whose mount
// point (after the rootfs prefix is stripped) matches mount_points_exclude,
// are dropped; with a rootfs other than "/", so are mounts outside it (they
// are the exporter's own, not the host's). A (device, mountpoint, fstype)
// seen twice (a bind mount, mounts stacked on one point) gives one row, with
// the read-only state of the last line: the last mount on a mount point is
// the one visible there. Each row's filesystem is statted through a
// StatRunner (stat_runner.hpp) with the deadline collect start +
// mount_timeout.
//
// Not thread-safe: one Scan at a time (collect is never concurrent with
// itself).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mountinfo.hpp"
#include "name_filter.hpp"
#include "stat_runner.hpp"

namespace sysmetrics::filesystem {

// node_exporter 1.5's defaults (--collector.filesystem.mount-points-exclude
// and fs-types-exclude): the options' defaults.
inline constexpr const char* kDefaultMountPointsExclude =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|"
    "var/lib/containers/storage/.+)($|/)";
inline constexpr const char* kDefaultFsTypesExclude =
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|"
    "fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|"
    "rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";

struct FsConfig {
  std::string mount_points_exclude;
  std::string fs_types_exclude;
  std::string rootfs = "/";
  std::chrono::duration<double> mount_timeout{1.0};
};

struct FsRow {
  std::string device;       // mount source, as mountinfo prints it
  std::string mount_point;  // unescaped, rootfs prefix stripped
  std::string fs_type;
  bool readonly = false;
  StatOutcome stat;
};

// A line for the host log.
struct FsEvent {
  bool warning = false;  // else informational
  std::string message;
};

class FilesystemScan {
 public:
  // host compiles the patterns; throws sysmetrics::Error for an invalid
  // one (naming none: the caller knows which option it passed).
  // stuck: shared with other scans (the plugin passes
  // StuckPaths::Process()); nullptr for a set of its own.
  FilesystemScan(const FsConfig& config, const Host& host, StatFn stat = StatFs,
                 std::shared_ptr<StuckPaths> stuck = nullptr);

  // Fills *rows (cleared first) from mounts and appends to *events a line
  // per mount newly stuck, per stuck mount that recovered, and one when
  // mounts start (and stop) going unstatted for want of a free thread.
  void Scan(const MountInfo& mounts, std::vector<FsRow>* rows,
            std::vector<FsEvent>* events);

  // The path statted for a mount point label (rootfs + label).
  std::string StatPath(std::string_view label) const;

 private:
  // The label for mount point mp, or false when mp is outside rootfs.
  bool Label(std::string_view mp, std::string* label) const;

  plugin::NameFilter mount_points_;
  plugin::NameFilter fs_types_;
  std::string rootfs_;  // without a trailing '/'; empty for "/"
  std::chrono::duration<double> timeout_;
  StatRunner runner_;
  bool not_run_logged_ = false;  // the last scan had kNotRun rows
  // Scratch kept across scans.
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::string> paths_;
  std::vector<StatOutcome> outcomes_;
  std::string key_;
  std::string label_;
};

}  // namespace sysmetrics::filesystem
