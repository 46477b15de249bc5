// WorkerQueue: runs jobs first in, first out on the threads of a
// Poco::ThreadPool, at most max_running of them holding a place at once.
// The HTTP server queues the connections whose request needs a thread of
// its own (a scrape, a password check) here.
//
// The server's limit is the number of CPUs the process may use: more
// scrapes at once than CPUs do not finish sooner, they are preempted
// midway, and each holds its working memory (the response it renders, the
// collectors' output it reads) all the while. A job that arrives while the
// places are taken waits in the queue, and the worker that finishes a job
// takes the next itself, without a thread switch.
//
// A job that waits rather than computes steps aside (util/step_aside.hpp)
// for that stretch: it gives up its place, so a job behind it may start,
// and counts again when it resumes, past the limit if need be (only jobs
// not yet started wait for a place). A job that holds its place without
// computing and without saying so (a collector that blocks on the
// scraping thread) holds the others back until Unstick, called
// periodically, finds that the queue waited through a whole period with
// no job starting: the jobs running then stop counting, and the queue
// flows again.
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
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.hpp"
#include "util/status.hpp"
#include "util/step_aside.hpp"

namespace sysmetrics {

template <class Job>
class WorkerQueue {
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
      // Room for every thread the pool may hold: a worker's entry in Loop
      // then never allocates (an exception there would leave it counted).
      members_.reserve(static_cast<std::size_t>(std::max(1, max_threads)));
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
    // Every place taken or promised: a worker that finishes or steps
    // aside, or Unstick, starts it.
    if (Coming() >= max_running_) return Status::Ok();
    if (idle_ > notified_) {
      ++notified_;
      wake_.NotifyOne();
      return Status::Ok();
    }
    if (workers_ >= busy) return Status::Ok();
    Status s = StartThread();
    if (!s.ok()) queue_.pop_back();
    return s;
  }

  // Call periodically (the server's sweep). When jobs waited through a
  // whole period while none started, the jobs running then have held their
  // places that long (a collector that blocks on the scraping thread):
  // they stop counting against the limit, and the queue behind them flows
  // again, one stall costing it one period or two.
  void Unstick() {
    MutexLock lock(mu_);
    const bool stalled = waited_ && !queue_.empty() && started_ == seen_;
    seen_ = started_;
    waited_ = !queue_.empty();
    if (!stalled) return;
    for (Worker* w : members_) {
      if (w->counted) Uncount(*w);
    }
    WakeForQueue();
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
  // One worker thread: its hook for StepAside, and whether its job holds
  // a place under the limit.
  struct Worker final : StepAsideHook {
    explicit Worker(WorkerQueue* q) : queue(q) {}
    void Leave() override { queue->Leave(*this); }
    void Return() override { queue->Return(*this); }
    WorkerQueue* queue;
    bool counted = false;  // under the queue's mu_
  };

  // Places taken, or promised to workers on their way to the queue.
  int Coming() const REQUIRES(mu_) { return running_ + notified_ + starting_; }

  // Whether a worker may take the next job now.
  bool CanTake() const REQUIRES(mu_) {
    return !queue_.empty() && running_ < max_running_;
  }

  void Uncount(Worker& w) REQUIRES(mu_) {
    w.counted = false;
    --running_;
  }

  // Gets workers to the queue for the places free now, each an idle one
  // not already woken, else a new thread. One that cannot start is left to
  // a finishing worker or the next Unstick.
  void WakeForQueue() REQUIRES(mu_) {
    const int wanted =
        std::min(static_cast<int>(queue_.size()), max_running_ - running_);
    while (notified_ + starting_ < wanted) {
      if (idle_ > notified_) {
        ++notified_;
        wake_.NotifyOne();
      } else if (!StartThread().ok()) {
        return;
      }
    }
  }

  Status StartThread() REQUIRES(mu_) {
    try {
      pool_->start(loop_);
    } catch (const Poco::Exception& e) {
      return Status::Error(e.displayText());
    } catch (const std::exception& e) {
      return Status::Error(e.what());
    }
    ++workers_;
    ++starting_;  // until it is in Loop
    return Status::Ok();
  }

  void Leave(Worker& w) {
    MutexLock lock(mu_);
    if (!w.counted) return;  // released by Unstick, or not serving
    Uncount(w);
    WakeForQueue();
  }
  void Return(Worker& w) {
    MutexLock lock(mu_);
    if (w.counted) return;
    // It computes again: counted at once, even past the limit (it does
    // not wait for a place; the limit holds back only jobs not started).
    w.counted = true;
    ++running_;
  }

  void Loop() {
    Worker self(this);
    SetStepAsideHook(&self);
    MutexLock lock(mu_);
    --starting_;
    members_.push_back(&self);
    for (;;) {
      if (!CanTake() && !stop_) {
        const auto give_up = std::chrono::steady_clock::now() + idle_timeout_;
        ++idle_;
        while (!CanTake() && !stop_) {
          const bool notified = wake_.WaitUntil(mu_, give_up);
          // Never below 0: a wake-up nobody asked for (spurious, or the
          // idle timeout) also lands here.
          if (notified_ > 0) --notified_;
          if (!notified) break;
        }
        --idle_;
      }
      if (!CanTake()) break;
      self.counted = true;
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
      if (self.counted) Uncount(self);
    }
    members_.erase(std::find(members_.begin(), members_.end(), &self));
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
  std::vector<Worker*> members_ GUARDED_BY(mu_);  // the workers in Loop
  int workers_ GUARDED_BY(mu_) = 0;   // started, not yet out of Loop
  int idle_ GUARDED_BY(mu_) = 0;      // of those, waiting for a job
  int notified_ GUARDED_BY(mu_) = 0;  // idle ones woken, not yet up
  int starting_ GUARDED_BY(mu_) = 0;  // started, not yet in Loop
  int running_ GUARDED_BY(mu_) = 0;   // jobs holding a place (counted)
  int max_running_ GUARDED_BY(mu_) = 1;
  std::uint64_t started_ GUARDED_BY(mu_) = 0;  // jobs taken, ever
  std::uint64_t seen_ GUARDED_BY(mu_) = 0;     // started_ at the last Unstick
  bool waited_ GUARDED_BY(mu_) = false;  // jobs queued at the last Unstick
  bool stop_ GUARDED_BY(mu_) = false;
  Poco::RunnableAdapter<WorkerQueue> loop_{*this, &WorkerQueue::Loop};
  // Last: destroyed (its threads joined) before what they use.
  std::unique_ptr<Poco::ThreadPool> pool_;
};

}  // namespace sysmetrics
