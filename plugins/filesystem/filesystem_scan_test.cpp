// The collector's logic on fixture mount tables: statfs on real directories
// under a temporary root, filters, rootfs stripping, duplicates, and a hung
// mount through an injected stat function.
#include "filesystem_scan.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "test_host.hpp"

namespace sysmetrics::filesystem {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

FsConfig Defaults() {
  FsConfig c;
  c.mount_points_exclude = kDefaultMountPointsExclude;
  c.fs_types_exclude = kDefaultFsTypesExclude;
  return c;
}

MountInfo Parse(const std::string& text) {
  MountInfo mi;
  std::string err;
  REQUIRE(ParseMountInfo(text, "mountinfo", &mi, &err));
  return mi;
}

// Parses text, then scans it; the text must outlive the rows' use of it,
// which Scan's copies guarantee.
std::vector<FsRow> ScanText(FilesystemScan& scan, const std::string& text,
                            std::vector<FsEvent>* events = nullptr) {
  const MountInfo mi = Parse(text);
  std::vector<FsRow> rows;
  std::vector<FsEvent> ev;
  scan.Scan(mi, &rows, events != nullptr ? events : &ev);
  return rows;
}

TEST_CASE("real directories: sizes from statfs, errors, filters") {
  TempDir tmp;
  fs::create_directories(tmp.path() + "/data");
  fs::create_directories(tmp.path() + "/my dir");
  const std::string& t = tmp.path();
  const std::string text =
      "1 0 8:1 / " + t + "/data rw - ext4 /dev/sda1 rw\n" + "2 1 8:2 / " + t +
      "/my\\040dir rw - xfs /dev/sdb1 ro\n" + "3 1 8:3 / " + t +
      "/gone rw - ext4 /dev/sdc1 rw\n" +
      "4 1 0:4 / /proc rw - proc proc rw\n" +       // type excluded
      "5 1 0:5 / /dev/shm rw - tmpfs tmpfs rw\n" +  // point excluded
      "6 1 0:6 / " + t + "/data rw - overlay overlay rw\n";
  FilesystemScan scan(Defaults(), plugin::TestHost());
  const std::vector<FsRow> rows = ScanText(scan, text);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].mount_point == t + "/data");
  CHECK(rows[0].device == "/dev/sda1");
  CHECK(rows[0].fs_type == "ext4");
  CHECK_FALSE(rows[0].readonly);
  REQUIRE(rows[0].stat.state == StatState::kOk);
  CHECK(rows[0].stat.stats.bsize > 0);
  CHECK(rows[0].stat.stats.blocks > 0);
  CHECK(rows[1].mount_point == t + "/my dir");
  CHECK(rows[1].readonly);
  CHECK(rows[1].stat.state == StatState::kOk);
  CHECK(rows[2].stat.state == StatState::kFailed);
  CHECK(rows[2].stat.error == ENOENT);
}

TEST_CASE(
    "duplicates: one row per (device, mountpoint, fstype), the last "
    "mount's read-only state") {
  TempDir tmp;
  const std::string& t = tmp.path();
  const std::string text = "1 0 8:1 / " + t + " rw - ext4 /dev/sda1 rw\n" +
                           "2 1 8:1 /sub " + t + " ro - ext4 /dev/sda1 ro\n" +
                           "3 1 8:2 / " + t + " rw - ext4 /dev/sdb1 rw\n";
  FilesystemScan scan(Defaults(), plugin::TestHost());
  const std::vector<FsRow> rows = ScanText(scan, text);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].device == "/dev/sda1");
  CHECK(rows[0].readonly);
  CHECK(rows[1].device == "/dev/sdb1");
  CHECK(rows[1].stat.state == StatState::kOk);
}

TEST_CASE("rootfs: prefix stripped, statted under rootfs, outside skipped") {
  TempDir tmp;
  fs::create_directories(tmp.path() + "/data");
  const std::string& t = tmp.path();
  FsConfig config = Defaults();
  config.rootfs = t + "/";
  FilesystemScan scan(config, plugin::TestHost());
  CHECK(scan.StatPath("/") == t);
  CHECK(scan.StatPath("/data") == t + "/data");
  const std::string text = "1 0 8:1 / " + t + " rw - ext4 /dev/sda1 rw\n" +
                           "2 1 8:2 / " + t + "/data rw - ext4 /dev/sdb1 rw\n" +
                           "3 1 8:3 / " + t + "x rw - ext4 /dev/sdc1 rw\n" +
                           "4 1 0:4 / / rw - ext4 /dev/root rw\n" +
                           "5 1 0:5 / " + t + "/proc rw - tmpfs tmpfs rw\n";
  const std::vector<FsRow> rows = ScanText(scan, text);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].mount_point == "/");
  CHECK(rows[0].stat.state == StatState::kOk);
  CHECK(rows[1].mount_point == "/data");
  CHECK(rows[1].stat.state == StatState::kOk);
}

TEST_CASE("a bad pattern throws") {
  FsConfig config = Defaults();
  config.fs_types_exclude = "(";
  CHECK_THROWS_AS((FilesystemScan{config, plugin::TestHost()}), Error);
}

TEST_CASE("a hung mount: error rows, one warning, one recovery line") {
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    int hang_calls = 0;
  };
  auto gate = std::make_shared<Gate>();
  StatFn stat = [gate](const std::string& path, FsStats* out) {
    if (path == "/mnt/hang") {
      std::unique_lock lock(gate->mu);
      ++gate->hang_calls;
      gate->cv.wait(lock, [&] { return gate->open; });
    }
    out->bsize = 512;
    out->blocks = 8;
    return 0;
  };
  FsConfig config = Defaults();
  config.mount_timeout = std::chrono::milliseconds(300);
  FilesystemScan scan(config, plugin::TestHost(), stat);
  const std::string text =
      "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "2 1 0:50 / /mnt/hang rw - nfs4 filer:/x ro\n";
  std::vector<FsEvent> events;
  for (int i = 0; i < 10; ++i) {
    const std::vector<FsRow> rows = ScanText(scan, text, &events);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].stat.state == StatState::kOk);
    CHECK(rows[1].stat.state == StatState::kStuck);
    CHECK(rows[1].readonly);
  }
  REQUIRE(events.size() == 1);
  CHECK(events[0].warning);
  CHECK(events[0].message.find("/mnt/hang (filer:/x, nfs4): statfs") == 0);
  {
    const std::lock_guard lock(gate->mu);
    CHECK(gate->hang_calls == 1);
    gate->open = true;
    gate->cv.notify_all();
  }
  // Recovered: the next scan (or a later one: the worker may not have
  // returned yet) says so once and stats the mount again.
  events.clear();
  for (int i = 0; i < 2000 && events.empty(); ++i) {
    ScanText(scan, text, &events);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0].warning);
  const std::vector<FsRow> rows = ScanText(scan, text, &events);
  CHECK(rows[1].stat.state == StatState::kOk);
  CHECK(events.size() == 1);
}

TEST_CASE(
    "more hung mounts than threads: the rest reported without a call, "
    "logged once") {
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    int calls = 0;
  };
  auto gate = std::make_shared<Gate>();
  StatFn stat = [gate](const std::string& path, FsStats* out) {
    std::unique_lock lock(gate->mu);
    ++gate->calls;
    if (path.ends_with("/hang")) {
      gate->cv.wait(lock, [&] { return gate->open; });
    }
    out->bsize = 512;
    return 0;
  };
  FsConfig config = Defaults();
  config.mount_timeout = std::chrono::milliseconds(300);
  FilesystemScan scan(config, plugin::TestHost(), stat);
  constexpr int kMounts = StatRunner::kMaxThreads + 2;
  std::string text;
  for (int i = 0; i < kMounts; ++i) {
    text += std::to_string(i + 1) + " 0 0:" + std::to_string(i) + " / /m/" +
            std::to_string(i) + "/hang rw - nfs filer:/" + std::to_string(i) +
            " rw\n";
  }
  std::vector<FsEvent> events;
  for (int round = 0; round < 3; ++round) {
    const std::vector<FsRow> rows = ScanText(scan, text, &events);
    REQUIRE(rows.size() == kMounts);
    int stuck = 0;
    int not_run = 0;
    for (const FsRow& r : rows) {
      stuck += r.stat.state == StatState::kStuck ? 1 : 0;
      not_run += r.stat.state == StatState::kNotRun ? 1 : 0;
    }
    CHECK(stuck == StatRunner::kMaxThreads);
    CHECK(not_run == 2);
  }
  // One line per stuck mount and one for the two left out, not per scan.
  CHECK(events.size() == StatRunner::kMaxThreads + 1);
  CHECK(events.back().message.find("2 mounts reported") == 0);
  {
    const std::lock_guard lock(gate->mu);
    CHECK(gate->calls == StatRunner::kMaxThreads);
    gate->open = true;
    gate->cv.notify_all();
  }
  events.clear();
  bool all_ok = false;
  for (int i = 0; i < 2000 && !all_ok; ++i) {
    const std::vector<FsRow> rows = ScanText(scan, text, &events);
    all_ok = std::all_of(rows.begin(), rows.end(), [](const FsRow& r) {
      return r.stat.state == StatState::kOk;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(all_ok);
  bool resumed = false;
  for (const FsEvent& e : events) {
    resumed = resumed || e.message == "every mount is statted again";
  }
  CHECK(resumed);
}

}  // namespace
}  // namespace sysmetrics::filesystem
