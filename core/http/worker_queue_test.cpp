#include "http/worker_queue.hpp"

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "util/step_aside.hpp"

namespace sysmetrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A flag one thread sets and others wait for, with a bound so that a
// broken queue fails the test instead of hanging it.
class Event {
 public:
  void Set() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, seconds(20), [&] { return set_; });
  }
  bool IsSet() {
    std::lock_guard<std::mutex> lock(mu_);
    return set_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// What the jobs of one test saw: how many ran at once, at most, and on
// how many threads.
struct Seen {
  std::mutex mu;
  int active = 0;
  int most = 0;
  int done = 0;
  std::set<std::thread::id> threads;
  void Begin() {
    std::lock_guard<std::mutex> lock(mu);
    most = std::max(most, ++active);
    threads.insert(std::this_thread::get_id());
  }
  void End() {
    std::lock_guard<std::mutex> lock(mu);
    --active;
    ++done;
  }
  int Done() {
    std::lock_guard<std::mutex> lock(mu);
    return done;
  }
};

// Gives a queue that breaks its limit the time to show it; a correct one
// cannot fail for it.
void Linger() { std::this_thread::sleep_for(milliseconds(50)); }

TEST_CASE(
    "jobs past the running limit wait, and the worker that "
    "finishes takes the next") {
  Seen seen;
  Event first_started;
  Event release_first;
  Event all_done;
  constexpr int kJobs = 6;
  WorkerQueue<int> queue(seconds(60), [&](int job) {
    seen.Begin();
    if (job == 0) {
      first_started.Set();
      CHECK(release_first.Wait());
    }
    seen.End();
    if (seen.Done() == kJobs) all_done.Set();
  });
  queue.Start("test", 16, 1);
  REQUIRE(queue.Submit(0, 1).ok());
  REQUIRE(first_started.Wait());
  for (int job = 1; job < kJobs; ++job)
    REQUIRE(queue.Submit(job, job + 1).ok());
  Linger();
  CHECK(seen.Done() == 0);
  release_first.Set();
  REQUIRE(all_done.Wait());
  queue.Stop();
  CHECK(seen.most == 1);
  // No thread was started for the jobs that waited.
  CHECK(seen.threads.size() == 1);
}

TEST_CASE("as many jobs run at once as the limit allows") {
  Seen seen;
  Event two_running;
  Event all_done;
  WorkerQueue<int> queue(seconds(60), [&](int job) {
    seen.Begin();
    if (job < 2) {
      // Each of the first two waits for the other: both must run at once.
      {
        std::lock_guard<std::mutex> lock(seen.mu);
        if (seen.active == 2) two_running.Set();
      }
      CHECK(two_running.Wait());
    }
    seen.End();
    if (seen.Done() == 3) all_done.Set();
  });
  queue.Start("test", 16, 2);
  REQUIRE(queue.Submit(0, 1).ok());
  REQUIRE(queue.Submit(1, 2).ok());
  REQUIRE(queue.Submit(2, 3).ok());
  REQUIRE(all_done.Wait());
  queue.Stop();
  CHECK(seen.most == 2);
}

TEST_CASE(
    "a job that steps aside lets the next one start, and holds its place "
    "again when it resumes") {
  Event first_started;
  Event second_queued;
  Event second_ran;
  Event first_resumed;
  Event release_first;
  Event third_ran;
  bool waited = false;
  WorkerQueue<int> queue(seconds(60), [&](int job) {
    if (job == 0) {
      first_started.Set();
      // Steps aside with the second queued: stepping aside is what must
      // get a worker to it.
      CHECK(second_queued.Wait());
      {
        const StepAside aside;
        waited = second_ran.Wait();
      }
      first_resumed.Set();
      CHECK(release_first.Wait());
    } else if (job == 1) {
      second_ran.Set();
    } else {
      third_ran.Set();
    }
  });
  queue.Start("test", 16, 1);
  REQUIRE(queue.Submit(0, 1).ok());
  REQUIRE(first_started.Wait());
  REQUIRE(queue.Submit(1, 2).ok());
  second_queued.Set();
  REQUIRE(second_ran.Wait());
  REQUIRE(first_resumed.Wait());
  REQUIRE(queue.Submit(2, 2).ok());
  Linger();
  CHECK_FALSE(third_ran.IsSet());
  release_first.Set();
  REQUIRE(third_ran.Wait());
  queue.Stop();
  CHECK(waited);
}

TEST_CASE(
    "Unstick, after a whole period without a start, stops counting the "
    "jobs that held their places, and the queue behind them flows") {
  Event first_started;
  Event others_ran;
  Seen seen;
  WorkerQueue<int> queue(seconds(60), [&](int job) {
    if (job == 0) {
      first_started.Set();
      CHECK(others_ran.Wait());  // blocks without stepping aside
      return;
    }
    seen.Begin();
    seen.End();
    if (seen.Done() == 3) others_ran.Set();
  });
  queue.Start("test", 16, 1);
  REQUIRE(queue.Submit(0, 1).ok());
  REQUIRE(first_started.Wait());
  for (int job = 1; job <= 3; ++job) REQUIRE(queue.Submit(job, job + 1).ok());
  queue.Unstick();  // the jobs have not waited a whole period yet
  Linger();
  CHECK(seen.Done() == 0);
  queue.Unstick();
  // All three, with no further Unstick, while the first still blocks.
  REQUIRE(others_ran.Wait());
  queue.Stop();
  CHECK(seen.most == 1);  // one place: the limit holds for them
}

TEST_CASE("a job that started between two Unsticks is progress") {
  std::array<Event, 4> started;
  std::array<Event, 4> release;
  WorkerQueue<int> queue(seconds(60), [&](int job) {
    const auto i = static_cast<std::size_t>(job);
    started.at(i).Set();
    if (job != 3) CHECK(release.at(i).Wait());
  });
  queue.Start("test", 16, 2);
  REQUIRE(queue.Submit(0, 1).ok());
  REQUIRE(queue.Submit(1, 2).ok());
  REQUIRE(started[0].Wait());
  REQUIRE(started[1].Wait());
  REQUIRE(queue.Submit(2, 3).ok());
  queue.Unstick();
  release[1].Set();  // job 2 takes its place: progress
  REQUIRE(started[2].Wait());
  REQUIRE(queue.Submit(3, 3).ok());
  queue.Unstick();
  Linger();
  CHECK_FALSE(started[3].IsSet());
  queue.Unstick();  // a whole period without a start now
  REQUIRE(started[3].Wait());
  release[0].Set();
  release[2].Set();
  queue.Stop();
}

}  // namespace
}  // namespace sysmetrics
