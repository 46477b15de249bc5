// WorkerQueue: runs jobs first in, first out on the threads of a
// Poco::ThreadPool, starting a thread only when no idle one will take the
// job. Workers that find no job for idle_timeout end. The HTTP server
// queues the connections whose request needs a thread of its own (a
// scrape, a password check) here.
#pragma once

#include <Poco/Exception.h>
#include <Poco/RunnableAdapter.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/thread_annotations.hpp"
#include "util/status.hpp"

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

  // Creates the pool, of at most max_threads. Call from a thread whose
  // signal mask the workers should inherit. Throws Poco::Exception.
  void Start(const std::string& name, int max_threads) {
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
    if (static_cast<int>(queue_.size()) <= idle_) {
      wake_.NotifyOne();
      return Status::Ok();
    }
    if (workers_ >= busy) return Status::Ok();
    try {
      pool_->start(loop_);
      ++workers_;
      return Status::Ok();
    } catch (const Poco::Exception& e) {
      queue_.pop_back();
      if (!queue_.empty()) wake_.NotifyOne();
      return Status::Error(e.displayText());
    }
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
  void Loop() {
    MutexLock lock(mu_);
    for (;;) {
      if (queue_.empty() && !stop_) {
        const auto give_up = std::chrono::steady_clock::now() + idle_timeout_;
        ++idle_;
        while (queue_.empty() && !stop_) {
          if (!wake_.WaitUntil(mu_, give_up)) break;
        }
        --idle_;
      }
      if (queue_.empty()) break;
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
    }
    --workers_;
    done_.NotifyAll();
  }

  const std::chrono::seconds idle_timeout_;
  const std::function<void(Job)> serve_;
  Mutex mu_;
  CondVar wake_;  // a job queued, or stop
  CondVar done_;  // a worker left
  std::deque<Job> queue_ GUARDED_BY(mu_);
  int workers_ GUARDED_BY(mu_) = 0;  // running Loop
  int idle_ GUARDED_BY(mu_) = 0;     // of those, waiting for a job
  bool stop_ GUARDED_BY(mu_) = false;
  Poco::RunnableAdapter<WorkerQueue> loop_{*this, &WorkerQueue::Loop};
  // Last: destroyed (its threads joined) before what they use.
  std::unique_ptr<Poco::ThreadPool> pool_;
};

}  // namespace sysmetrics
