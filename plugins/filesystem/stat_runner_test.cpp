// StatRunner under a stat function that blocks chosen paths until released:
// bounded waits, no second call on a stuck path, bounded threads, recovery,
// and destruction while a call is stuck. Labelled "concurrency": run under
// ThreadSanitizer by tests/sanitize.sh.
#include "stat_runner.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sysmetrics::filesystem {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A stat function whose calls on paths ending in "/hang" block until
// Release(); "/missing" fails with ENOENT; the rest succeed at once. Shared
// with the runner's workers, so it outlives a destroyed runner.
class FakeStat {
 public:
  static StatFn Bind(const std::shared_ptr<FakeStat>& self) {
    return [self](const std::string& path, FsStats* out) {
      return self->Stat(path, out);
    };
  }

  int Stat(const std::string& path, FsStats* out) {
    std::unique_lock lock(mu_);
    ++calls_[path];
    if (path.ends_with("/hang")) {
      ++blocked_;
      cv_.wait(lock, [&] { return released_; });
      --blocked_;
    }
    if (path.ends_with("/missing")) return ENOENT;
    out->bsize = 4096;
    out->blocks = 100;
    return 0;
  }

  void Release() {
    const std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int calls(const std::string& path) {
    const std::lock_guard lock(mu_);
    return calls_[path];
  }
  int blocked() {
    const std::lock_guard lock(mu_);
    return blocked_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  int blocked_ = 0;
  std::map<std::string, int> calls_;
};

// Threads of this process, as the kernel counts them.
int TaskCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// Polls f until it holds or 20 s pass (a busy machine); returns f().
template <class F>
bool Eventually(F f) {
  const auto end = Clock::now() + seconds(20);
  while (!f() && Clock::now() < end)
    std::this_thread::sleep_for(milliseconds(5));
  return f();
}

// Deadlines are generous: a Run with nothing stuck returns as soon as its
// calls do, and one with a new hang waits this long.
Clock::time_point Deadline() { return Clock::now() + milliseconds(500); }

TEST_CASE("every path statted; failures carry errno; duplicates call once") {
  auto fake = std::make_shared<FakeStat>();
  StatRunner runner(FakeStat::Bind(fake));
  std::vector<StatOutcome> out;
  runner.Run({"/a", "/missing", "/a", "/b"}, Clock::now() + seconds(20), &out);
  REQUIRE(out.size() == 4);
  CHECK(out[0].state == StatState::kOk);
  CHECK(out[0].stats.bsize == 4096);
  CHECK(out[1].state == StatState::kFailed);
  CHECK(out[1].error == ENOENT);
  CHECK(out[2].state == StatState::kOk);
  CHECK(out[3].state == StatState::kOk);
  CHECK(fake->calls("/a") == 1);
  // Nothing stuck: at most the idle workers stay.
  CHECK(runner.threads() <= StatRunner::kIdleWorkers);
  runner.Run({"/a"}, Clock::now() + seconds(20), &out);
  CHECK(fake->calls("/a") == 2);
}

TEST_CASE("quick calls are made by one worker, one after another") {
  auto fake = std::make_shared<FakeStat>();
  StatRunner runner(FakeStat::Bind(fake));
  std::vector<StatOutcome> out;
  const std::vector<std::string> paths = {"/a", "/b", "/c", "/d", "/e", "/f"};
  for (int i = 0; i < 20; ++i) {
    runner.Run(paths, Clock::now() + seconds(20), &out);
    for (const StatOutcome& o : out) CHECK(o.state == StatState::kOk);
  }
  // A worker per path would have started six.
  CHECK(runner.threads() == 1);
  CHECK(fake->calls("/f") == 20);
}

TEST_CASE(
    "a hung path: bounded wait, one call only, bounded threads, "
    "recovery") {
  const int tasks_before = TaskCount();
  auto fake = std::make_shared<FakeStat>();
  StatRunner runner(FakeStat::Bind(fake));
  std::vector<StatOutcome> out;
  // Returns at the deadline, not when the call does (it never will): the
  // hung path comes back stuck.
  runner.Run({"/a", "/mnt/hang", "/b"}, Deadline(), &out);
  CHECK(out[0].state == StatState::kOk);
  CHECK(out[1].state == StatState::kStuck);
  CHECK(out[1].newly_stuck);
  CHECK(out[2].state == StatState::kOk);
  CHECK(runner.stuck() == 1);

  int max_tasks = 0;
  for (int i = 0; i < 100; ++i) {
    runner.Run({"/a", "/mnt/hang", "/b"}, Deadline(), &out);
    CHECK(out[1].state == StatState::kStuck);
    CHECK_FALSE(out[1].newly_stuck);
    CHECK(out[0].state == StatState::kOk);
    max_tasks = std::max(max_tasks, TaskCount());
  }
  CHECK(fake->calls("/mnt/hang") == 1);
  CHECK(fake->calls("/a") == 101);
  // The idle workers and the one stuck thread, whatever the scrape count.
  CHECK(runner.threads() <= StatRunner::kIdleWorkers + 1);
  CHECK(max_tasks <= tasks_before + StatRunner::kIdleWorkers + 1);
  CHECK(runner.TakeRecovered().empty());

  fake->Release();
  std::vector<std::string> recovered;
  CHECK(Eventually([&] {
    for (auto& p : runner.TakeRecovered()) recovered.push_back(p);
    return !recovered.empty();
  }));
  CHECK(recovered == std::vector<std::string>{"/mnt/hang"});
  CHECK(runner.stuck() == 0);
  runner.Run({"/a", "/mnt/hang"}, Clock::now() + seconds(20), &out);
  CHECK(out[1].state == StatState::kOk);
  CHECK(fake->calls("/mnt/hang") == 2);
  CHECK(runner.TakeRecovered().empty());  // once only
}

TEST_CASE("the thread cap: further paths are reported without a call") {
  auto fake = std::make_shared<FakeStat>();
  const int tasks_before = TaskCount();
  {
    StatRunner runner(FakeStat::Bind(fake), nullptr, /*idle_workers=*/1,
                      /*max_threads=*/3);
    std::vector<StatOutcome> out;
    const std::vector<std::string> paths = {"/1/hang", "/2/hang", "/3/hang",
                                            "/4/hang", "/ok"};
    runner.Run(paths, Deadline(), &out);
    // Calls are taken in order: the first three block every thread.
    CHECK(out[0].state == StatState::kStuck);
    CHECK(out[1].state == StatState::kStuck);
    CHECK(out[2].state == StatState::kStuck);
    CHECK(out[3].state == StatState::kNotRun);
    CHECK(out[4].state == StatState::kNotRun);
    for (int i = 0; i < 20; ++i) {
      runner.Run(paths, Clock::now() + milliseconds(20), &out);
      CHECK(out[0].state == StatState::kStuck);
      CHECK(out[4].state == StatState::kNotRun);
      CHECK(runner.threads() <= 3);
      CHECK(TaskCount() <= tasks_before + 3);
    }
    CHECK(fake->calls("/1/hang") == 1);
    CHECK(fake->calls("/4/hang") == 0);
    CHECK(fake->calls("/ok") == 0);
    fake->Release();
    CHECK(Eventually([&] { return runner.stuck() == 0; }));
    runner.Run(paths, Clock::now() + seconds(20), &out);
    for (const StatOutcome& o : out) CHECK(o.state == StatState::kOk);
    CHECK(fake->calls("/4/hang") == 1);
  }
  // The runner gone, its workers exit.
  CHECK(Eventually([&] { return TaskCount() <= tasks_before; }));
}

TEST_CASE(
    "destroying the runner while a call is stuck does not wait; the "
    "thread exits when the call returns") {
  auto fake = std::make_shared<FakeStat>();
  const int tasks_before = TaskCount();
  {
    StatRunner runner(FakeStat::Bind(fake));
    std::vector<StatOutcome> out;
    runner.Run({"/hang", "/a"}, Deadline(), &out);
    CHECK(out[0].state == StatState::kStuck);
    REQUIRE(fake->blocked() == 1);
  }  // ~StatRunner returns with the call still blocked
  CHECK(fake->blocked() == 1);
  // The idle workers are gone; the stuck one remains, alone.
  CHECK(Eventually([&] { return TaskCount() <= tasks_before + 1; }));
  fake->Release();
  CHECK(Eventually([&] { return TaskCount() <= tasks_before; }));
  CHECK(fake->calls("/hang") == 1);
}

TEST_CASE(
    "a reload: the new runner does not call a path the old one left "
    "stuck, and reports its recovery") {
  auto fake = std::make_shared<FakeStat>();
  auto stuck = std::make_shared<StuckPaths>();
  std::vector<StatOutcome> out;
  for (int reload = 0; reload < 5; ++reload) {
    // The new instance is made before the old one goes (plugin.h, 3).
    StatRunner runner(FakeStat::Bind(fake), stuck);
    runner.Run({"/hang", "/a"}, Deadline(), &out);
    CHECK(out[0].state == StatState::kStuck);
    CHECK(out[0].newly_stuck == (reload == 0));
    CHECK(out[1].state == StatState::kOk);
  }
  CHECK(fake->calls("/hang") == 1);
  CHECK(fake->blocked() == 1);
  StatRunner runner(FakeStat::Bind(fake), stuck);
  fake->Release();
  std::vector<std::string> recovered;
  CHECK(Eventually([&] {
    for (auto& p : runner.TakeRecovered()) recovered.push_back(p);
    return !recovered.empty();
  }));
  CHECK(recovered == std::vector<std::string>{"/hang"});
  runner.Run({"/hang"}, Clock::now() + seconds(20), &out);
  CHECK(out[0].state == StatState::kOk);
  CHECK(fake->calls("/hang") == 2);
}

TEST_CASE("StatFs on real paths") {
  FsStats st;
  CHECK(StatFs("/", &st) == 0);
  CHECK(st.bsize > 0);
  CHECK(StatFs("/nonexistent-sysmetrics-path", &st) == ENOENT);
}

}  // namespace
}  // namespace sysmetrics::filesystem
