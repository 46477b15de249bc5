#include "filesystem_scan.hpp"

#include <cstdio>
#include <system_error>
#include <utility>

namespace sysmetrics::filesystem {
namespace {

std::string TrimTrailingSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

std::string Describe(const FsRow& r) {
  return r.mount_point + " (" + r.device + ", " + r.fs_type + ")";
}

}  // namespace

FilesystemScan::FilesystemScan(const FsConfig& config, const Host& host,
                               StatFn stat, std::shared_ptr<StuckPaths> stuck)
    : mount_points_(host, config.mount_points_exclude),
      fs_types_(host, config.fs_types_exclude),
      rootfs_(TrimTrailingSlashes(config.rootfs)),
      timeout_(config.mount_timeout),
      runner_(std::move(stat), std::move(stuck)) {}

bool FilesystemScan::Label(std::string_view mp, std::string* label) const {
  if (rootfs_.empty()) {
    label->assign(mp);
    return true;
  }
  // Path-aware, unlike node_exporter's plain prefix trim: rootfs /host does
  // not make /hostile into "ile".
  if (mp.substr(0, rootfs_.size()) != rootfs_) return false;
  const std::string_view rest = mp.substr(rootfs_.size());
  if (rest.empty()) {
    label->assign("/");
    return true;
  }
  if (rest.front() != '/') return false;
  label->assign(rest);
  return true;
}

std::string FilesystemScan::StatPath(std::string_view label) const {
  if (rootfs_.empty()) return std::string(label);
  if (label == "/") return rootfs_;
  return rootfs_ + std::string(label);
}

void FilesystemScan::Scan(const MountInfo& mounts, std::vector<FsRow>* rows,
                          std::vector<FsEvent>* events) {
  const auto start = std::chrono::steady_clock::now();
  rows->clear();
  index_.clear();
  mount_points_.BeginCollect();
  fs_types_.BeginCollect();
  for (const Mount& m : mounts.mounts) {
    if (fs_types_.Include(m.fs_type) == nullptr) continue;
    if (!Label(m.mount_point, &label_)) continue;
    if (mount_points_.Include(label_) == nullptr) continue;
    key_.assign(m.source).append(1, '\0').append(label_).append(1, '\0');
    key_.append(m.fs_type);
    const auto [it, fresh] = index_.try_emplace(key_, rows->size());
    if (!fresh) {
      // The same filesystem on the same point again: the later mount is
      // the one visible there.
      (*rows)[it->second].readonly = m.readonly;
      continue;
    }
    FsRow& r = rows->emplace_back();
    r.device.assign(m.source);
    r.mount_point = label_;
    r.fs_type.assign(m.fs_type);
    r.readonly = m.readonly;
  }
  paths_.clear();
  for (const FsRow& r : *rows) paths_.push_back(StatPath(r.mount_point));
  const auto deadline =
      start +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout_);
  runner_.Run(paths_, deadline, &outcomes_);
  std::size_t not_run = 0;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    FsRow& r = (*rows)[i];
    r.stat = outcomes_[i];
    if (r.stat.state == StatState::kNotRun) ++not_run;
    if (r.stat.newly_stuck) {
      events->push_back(
          {true, Describe(r) + ": statfs(" + paths_[i] +
                     ") has not returned within " + Seconds(timeout_.count()) +
                     " s; reported as device_error, not called again until "
                     "it returns"});
    }
  }
  // Logged when it starts and when it ends, not on every scrape.
  if ((not_run > 0) != not_run_logged_) {
    not_run_logged_ = not_run > 0;
    events->push_back(
        {not_run_logged_,
         not_run_logged_
             ? std::to_string(not_run) +
                   " mounts reported as device_error without a statfs call: "
                   "no worker thread was free before the deadline (at most " +
                   std::to_string(StatRunner::kMaxThreads) +
                   ", stuck ones included)"
             : "every mount is statted again"});
  }
  for (std::string& path : runner_.TakeRecovered()) {
    events->push_back({false, "statfs(" + path +
                                  ") returned after being stuck; the mount "
                                  "is monitored again"});
  }
}

}  // namespace sysmetrics::filesystem
