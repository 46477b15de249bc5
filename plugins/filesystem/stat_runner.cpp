#include "stat_runner.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

namespace sysmetrics::filesystem {

int StatFs(const std::string& path, FsStats* out) {
  // statfs, not statvfs: node_exporter calls statfs and multiplies by
  // f_bsize, and glibc's statvfs only converts what statfs returns.
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return errno;
  out->bsize = static_cast<std::uint64_t>(st.f_bsize);
  out->blocks = st.f_blocks;
  out->bfree = st.f_bfree;
  out->bavail = st.f_bavail;
  out->files = st.f_files;
  out->ffree = st.f_ffree;
  return 0;
}

std::shared_ptr<StuckPaths> StuckPaths::Process() {
  static const std::shared_ptr<StuckPaths> process =
      std::make_shared<StuckPaths>();
  return process;
}

bool StuckPaths::Contains(const std::string& path) const {
  const MutexLock lock(mu_);
  return stuck_.contains(path);
}

void StuckPaths::Add(const std::string& path) {
  const MutexLock lock(mu_);
  stuck_.insert(path);
}

void StuckPaths::Recovered(const std::string& path) {
  const MutexLock lock(mu_);
  stuck_.erase(path);
  recovered_.push_back(path);
}

std::vector<std::string> StuckPaths::TakeRecovered() {
  const MutexLock lock(mu_);
  return std::exchange(recovered_, {});
}

namespace {

// One stat call, shared by the Run that asked for it and the worker that
// makes it. Fields are guarded by State::mu.
struct Call {
  std::string path;
  std::uint64_t run = 0;  // the Run that created it
  bool started = false;
  bool done = false;
  bool cancelled = false;  // taken off the queue unstarted at a deadline
  bool stuck = false;      // outstanding past its Run's deadline
  int error = 0;
  FsStats stats;
};

}  // namespace

// Everything a worker touches: owned jointly by the runner and every
// worker, so it outlives a runner destroyed while a call is stuck.
struct StatRunner::State : std::enable_shared_from_this<StatRunner::State> {
  State(StatFn f, std::shared_ptr<StuckPaths> stuck_paths, int idle, int max)
      : stat(std::move(f)),
        stuck(std::move(stuck_paths)),
        idle_workers(idle),
        max_threads(max) {}

  const StatFn stat;
  // Locked after mu, never before.
  const std::shared_ptr<StuckPaths> stuck;
  const int idle_workers;
  const int max_threads;

  mutable Mutex mu;
  CondVar work_cv;  // a call was queued, or stop
  CondVar done_cv;  // a call finished, or a worker exited
  bool stop GUARDED_BY(mu) = false;
  int threads GUARDED_BY(mu) = 0;        // alive workers
  int busy GUARDED_BY(mu) = 0;           // workers inside a call
  std::uint64_t run GUARDED_BY(mu) = 0;  // Runs so far
  // Calls of the current Run not yet done. The worker that brings it to 0
  // wakes the Run, which no other completion does.
  int unfinished GUARDED_BY(mu) = 0;
  std::deque<std::shared_ptr<Call>> queue GUARDED_BY(mu);
  // The call outstanding (queued or running) per path.
  std::unordered_map<std::string, std::shared_ptr<Call>> outstanding
      GUARDED_BY(mu);
};

namespace {

using State = StatRunner::State;

// A worker: takes calls off the queue until told to stop or until it is
// surplus (more idle workers than idle_workers).
void Work(const std::shared_ptr<State>& s) {
  MutexLock lock(s->mu);
  for (;;) {
    while (!s->stop && s->queue.empty()) {
      if (s->threads - s->busy > s->idle_workers) {
        --s->threads;
        s->done_cv.NotifyAll();
        return;
      }
      s->work_cv.Wait(s->mu);
    }
    if (s->stop) break;
    const std::shared_ptr<Call> call = std::move(s->queue.front());
    s->queue.pop_front();
    call->started = true;
    ++s->busy;
    lock.Unlock();
    FsStats st;
    int err = 0;
    try {
      err = s->stat(call->path, &st);
    } catch (...) {
      err = EIO;  // a test's stat function; statfs itself never throws
    }
    lock.Lock();
    --s->busy;
    call->done = true;
    call->error = err;
    call->stats = st;
    const auto it = s->outstanding.find(call->path);
    if (it != s->outstanding.end() && it->second == call) {
      s->outstanding.erase(it);
    }
    if (call->stuck) s->stuck->Recovered(call->path);
    if (call->run == s->run && --s->unfinished == 0) {
      // Woken outside the lock, so that the Run does not wake only to wait
      // for the lock this thread holds (two more switches on one core).
      lock.Unlock();
      s->done_cv.NotifyAll();
      lock.Lock();
    }
  }
  --s->threads;
  s->done_cv.NotifyAll();
}

// Starts workers, up to max_threads, until idle ones number `wanted` or
// the queued calls, whichever is less. A thread that cannot be created
// (EAGAIN) ends the attempt: its calls stay queued and may be reported
// kNotRun.
void SpawnLocked(State& s, int wanted) REQUIRES(s.mu) {
  while (s.threads < s.max_threads) {
    const int idle = s.threads - s.busy;
    if (idle >= wanted || idle >= static_cast<int>(s.queue.size())) return;
    // Workers take no signals: the host's signal handling must not land on
    // a thread stuck in the kernel.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ++s.threads;
    try {
      std::thread(Work, s.shared_from_this()).detach();
    } catch (const std::system_error&) {
      --s.threads;
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      return;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
}

}  // namespace

StatRunner::StatRunner(StatFn stat, std::shared_ptr<StuckPaths> stuck,
                       int idle_workers, int max_threads)
    : state_(std::make_shared<State>(
          std::move(stat),
          stuck ? std::move(stuck) : std::make_shared<StuckPaths>(),
          idle_workers, std::max(1, max_threads))) {}

StatRunner::~StatRunner() {
  const MutexLock lock(state_->mu);
  state_->stop = true;
  state_->queue.clear();
  state_->work_cv.NotifyAll();
}

void StatRunner::Run(const std::vector<std::string>& paths,
                     std::chrono::steady_clock::time_point deadline,
                     std::vector<StatOutcome>* out) {
  out->assign(paths.size(), StatOutcome{});
  std::vector<std::shared_ptr<Call>> calls(paths.size());
  State& s = *state_;
  MutexLock lock(s.mu);
  const std::uint64_t run = ++s.run;
  int created = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const auto it = s.outstanding.find(paths[i]);
    if (it != s.outstanding.end() && it->second->run == run) {
      calls[i] = it->second;  // the same path twice in this Run
    } else if (it != s.outstanding.end() || s.stuck->Contains(paths[i])) {
      // Outstanding from an earlier Run, or stuck in another runner.
      (*out)[i].state = StatState::kStuck;
    } else {
      auto call = std::make_shared<Call>();
      call->path = paths[i];
      call->run = run;
      s.outstanding.emplace(paths[i], call);
      s.queue.push_back(call);
      ++created;
      calls[i] = std::move(call);
    }
  }
  s.unfinished = created;
  const auto all_done = [&] {
    return std::all_of(calls.begin(), calls.end(),
                       [](const auto& c) { return !c || c->done; });
  };
  // One worker makes the calls one after another (a statfs takes
  // microseconds; waking a worker per call costs more). Only if they are
  // not done within a quarter of the time left, a call being slow or hung,
  // does every queued call get a worker of its own.
  SpawnLocked(s, 1);
  // Woken outside the lock, so that the worker does not wake only to wait
  // for the lock this thread holds.
  lock.Unlock();
  s.work_cv.NotifyOne();
  lock.Lock();
  const auto now = std::chrono::steady_clock::now();
  const auto first = now + (deadline - now) / 4;
  while (!all_done()) {
    if (!s.done_cv.WaitUntil(s.mu, first)) break;
  }
  if (!all_done()) {
    SpawnLocked(s, static_cast<int>(s.queue.size()));
    s.work_cv.NotifyAll();
    while (!all_done()) {
      if (!s.done_cv.WaitUntil(s.mu, deadline)) break;
    }
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const std::shared_ptr<Call>& c = calls[i];
    if (!c) continue;
    StatOutcome& o = (*out)[i];
    if (c->done) {
      o.state = c->error == 0 ? StatState::kOk : StatState::kFailed;
      o.error = c->error;
      o.stats = c->stats;
    } else if (!c->started) {
      if (!c->cancelled) {
        c->cancelled = true;
        s.queue.erase(std::find(s.queue.begin(), s.queue.end(), c));
        s.outstanding.erase(c->path);
      }
      o.state = StatState::kNotRun;
    } else {
      o.state = StatState::kStuck;
      o.newly_stuck = !c->stuck;
      if (!c->stuck) s.stuck->Add(c->path);
      c->stuck = true;
    }
  }
}

std::vector<std::string> StatRunner::TakeRecovered() {
  return state_->stuck->TakeRecovered();
}

int StatRunner::threads() const {
  const MutexLock lock(state_->mu);
  return state_->threads;
}

int StatRunner::stuck() const {
  const MutexLock lock(state_->mu);
  return static_cast<int>(
      std::count_if(state_->outstanding.begin(), state_->outstanding.end(),
                    [](const auto& e) { return e.second->stuck; }));
}

}  // namespace sysmetrics::filesystem
