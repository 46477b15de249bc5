// WorkerQueue: runs jobs first in, first out on the threads of a
// Poco::ThreadPool, at most max_running of them computing at once. The HTTP
// server queues the connections whose request needs a thread of its own (a
// scrape, a password check) here.
//
// The running limit is the number of CPUs the process may use: more
// scrapes at once than CPUs do not finish sooner, they are preempted
// midway, and each holds its working memory (the response it renders, the
// collectors' output it reads) all the while. Under the limit a job that
// arrives while the places are taken waits in the queue, and the worker
// that finishes a job takes the next itself, without a thread switch.
// A job that waits rather than computes steps aside (util/step_aside.hpp)
// for that stretch, and a job behind it may start on another worker. One
// that blocks without saying so (a plugin that breaks its promise not to
// block) holds the others back only until Unstick, called periodically,
// sees the queue make no progress and lets one more job start.
//
// Threads start only when no idle worker can take a job; workers that find
// no job for idle_timeout end.
#pragma once

#include <Poco/Exception.h>
#include <Poco/RunnableAdapter.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/thread_annotations.hpp"
#include "util/status.hpp"
#include "util/step_aside.hpp"

namespace sysmetrics {

template <class Job>
class WorkerQueue final : private StepAsideHook {
 public:
  // serve runs each job on a worker, outside the queue's lock.
  WorkerQueue(std::chrono::seconds idle_timeout, std::function<void(Job)> serve)
      : idle_timeout_(idle_timeout), serve_(std::move(serve)) {}
  // Stop() must have run if Start() did.
  ~WorkerQueue() = default;
  WorkerQueue(const WorkerQueue&) = delete;
  WorkerQueue& operator=(const WorkerQueue&) = delete;

  // Creates the pool, of at most max_threads, at most max_running of them
  // computing at once. Call from a thread whose signal mask the workers
  // should inherit. Throws Poco::Exception.
  void Start(const std::string& name, int max_threads, int max_running) {
    {
      MutexLock lock(mu_);
      max_running_ = std::max(1, max_running);
    }
    pool_ = std::make_unique<Poco::ThreadPool>(
        name, 1, std::max(1, max_threads),
        static_cast<int>(idle_timeout_.count()));
  }

  // Queues job. busy is how many jobs are in flight, this one included:
  // each holds a worker until it is served, so when that many workers
  // already run, one that has finished its job but not yet come back for
  // the queue will take this one. (Starting a thread anyway, as a
  // keep-alive client that asks again at once makes happen on nearly
  // every request, grew the pool towards its limit for a handful of
  // clients.) An error, with the job not queued, if a thread was needed and
  // could not start; its message is Poco's reason.
  Status Submit(Job job, int busy) {
    MutexLock lock(mu_);
    queue_.push_back(job);
    // All places taken: a worker that finishes, or steps aside, or
    // Unstick, starts it.
    if (running_ + waking_ >= max_running_) return Status::Ok();
    if (idle_ > waking_) {
      ++waking_;
      wake_.NotifyOne();
      return Status::Ok();
    }
    if (workers_ >= busy) return Status::Ok();
    Status s = StartThread();
    if (!s.ok()) queue_.pop_back();
    return s;
  }

  // Call periodically (the server's sweep): when jobs waited through a
  // whole period while none started (every place held by a job that
  // blocks without stepping aside), lets one more start past the limit.
  void Unstick() {
    MutexLock lock(mu_);
    const bool stalled = waited_ && !queue_.empty() && started_ == seen_;
    seen_ = started_;
    waited_ = !queue_.empty();
    if (!stalled) return;
    extra_ = 1;
    (void)Wake();  // failing, the next period tries again
  }

  // Once nothing is queued or being served: makes every worker leave and
  // joins their threads. Blocks until then.
  void Stop() {
    if (pool_ == nullptr) return;
    {
      MutexLock lock(mu_);
      stop_ = true;
      wake_.NotifyAll();
      while (workers_ != 0) done_.Wait(mu_);
    }
    // Each worker has left Loop: wait until its thread is back in the
    // pool, so none touches this object once it is destroyed.
    pool_->joinAll();
  }

 private:
  // Whether a worker may take the next job now.
  bool CanTake() const REQUIRES(mu_) {
    return !queue_.empty() && (running_ < max_running_ || extra_ > 0);
  }

  // Gets a worker to the queue: an idle one not already woken, else a new
  // thread.
  Status Wake() REQUIRES(mu_) {
    if (idle_ > waking_) {
      ++waking_;
      wake_.NotifyOne();
      return Status::Ok();
    }
    return StartThread();
  }

  Status StartThread() REQUIRES(mu_) {
    try {
      pool_->start(loop_);
    } catch (const Poco::Exception& e) {
      return Status::Error(e.displayText());
    }
    ++workers_;
    ++waking_;  // until it is in Loop
    return Status::Ok();
  }

  // A woken worker (or a new one) is back: it no longer holds a place
  // for the job it was woken for. Never below 0: a wake-up nobody asked
  // for (spurious, or the idle timeout) also lands here.
  void Woke() REQUIRES(mu_) {
    if (waking_ > 0) --waking_;
  }

  void Leave() override {
    MutexLock lock(mu_);
    --running_;
    if (CanTake()) (void)Wake();  // failing, a finishing worker takes it
  }
  void Return() override {
    MutexLock lock(mu_);
    ++running_;
  }

  void Loop() {
    SetStepAsideHook(this);
    MutexLock lock(mu_);
    Woke();
    for (;;) {
      if (!CanTake() && !stop_) {
        const auto give_up = std::chrono::steady_clock::now() + idle_timeout_;
        ++idle_;
        while (!CanTake() && !stop_) {
          const bool notified = wake_.WaitUntil(mu_, give_up);
          Woke();
          if (!notified) break;
        }
        --idle_;
      }
      if (!CanTake()) break;
      if (running_ >= max_running_) --extra_;
      ++running_;
      ++started_;
      Job job = queue_.front();
      queue_.pop_front();
      lock.Unlock();
      try {
        serve_(job);
      } catch (...) {
        // serve_ handles its own errors; one escaping (out of memory) must
        // not end the loop without counting the worker out, or Stop()
        // would wait for it forever.
      }
      lock.Lock();
      --running_;
    }
    --workers_;
    done_.NotifyAll();
    lock.Unlock();
    SetStepAsideHook(nullptr);
  }

  const std::chrono::seconds idle_timeout_;
  const std::function<void(Job)> serve_;
  Mutex mu_;
  CondVar wake_;  // a job may start, or stop
  CondVar done_;  // a worker left
  std::deque<Job> queue_ GUARDED_BY(mu_);
  int workers_ GUARDED_BY(mu_) = 0;  // running Loop
  int idle_ GUARDED_BY(mu_) = 0;     // of those, waiting for a job
  int running_ GUARDED_BY(mu_) = 0;  // serving a job, not stepped aside
  int waking_ GUARDED_BY(mu_) = 0;   // woken or started for a job, not back
  int max_running_ GUARDED_BY(mu_) = 1;
  int extra_ GUARDED_BY(mu_) = 0;  // starts past the limit Unstick allows
  std::uint64_t started_ GUARDED_BY(mu_) = 0;  // jobs taken, ever
  std::uint64_t seen_ GUARDED_BY(mu_) = 0;     // started_ at the last Unstick
  bool waited_ GUARDED_BY(mu_) = false;  // jobs queued at the last Unstick
  bool stop_ GUARDED_BY(mu_) = false;
  Poco::RunnableAdapter<WorkerQueue> loop_{*this, &WorkerQueue::Loop};
  // Last: destroyed (its threads joined) before what they use.
  std::unique_ptr<Poco::ThreadPool> pool_;
};

}  // namespace sysmetrics
