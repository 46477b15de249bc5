// StatRunner: runs filesystem stat calls (statfs(2)) on worker threads so
// that a mount whose call hangs (a dead NFS server, a wedged FUSE daemon)
// never stalls a scrape and never piles up threads.
//
// One Run() hands a collect's paths to the workers and waits for them all
// until one common deadline. One worker makes the calls one after another
// (a statfs takes microseconds, a thread wake-up per call costs more); if
// they are not all done within a quarter of the time to the deadline (a
// call is slow or hung), every call still queued gets a worker of its own. A
// call that has not returned by then is left running on its thread and its path
// is "stuck": that Run and every later Run report it kStuck without calling
// again, for as long as the call is outstanding. When the call returns the path
// is usable again and is listed once by TakeRecovered().
//
// Bounds: at most max_threads worker threads exist at once. Threads beyond
// idle_workers exit as soon as they find no work, so at rest the runner
// holds idle_workers threads plus one per stuck path. When every thread is
// busy (max_threads stuck calls), a path that no thread picks up before the
// deadline is reported kNotRun, without a call.
//
// Across instances: a reload creates a new plugin instance (and runner)
// while the old one's call may still be stuck. Runners given the same
// StuckPaths (the plugin passes StuckPaths::Process()) see each other's
// stuck paths and do not call them either, so reloads do not add a thread
// per hung mount; whichever runner is alive reports the recovery.
//
// Lifetime: the destructor never waits for a call. The state the workers
// touch (queue, counts, the stat function) is shared between the runner and
// each worker, so a worker still stuck in a call when the runner is
// destroyed finds valid memory when it returns, then exits. The code the
// worker returns into must stay mapped too: the plugin that uses this is
// linked with -z nodelete (plugins/filesystem/CMakeLists.txt).
//
// Thread-safety: Run() and TakeRecovered() are called by one thread at a
// time (the plugin's collect); the stat function is called from the worker
// threads, concurrently with itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "thread_annotations.hpp"

namespace sysmetrics::filesystem {

// What statfs(2) says of a filesystem, in the units it says it in.
struct FsStats {
  std::uint64_t bsize = 0;  // f_bsize, the unit node_exporter multiplies by
  std::uint64_t blocks = 0;
  std::uint64_t bfree = 0;
  std::uint64_t bavail = 0;
  std::uint64_t files = 0;
  std::uint64_t ffree = 0;
};

// Fills *out for path; returns 0 or an errno value. May block for ever.
using StatFn = std::function<int(const std::string& path, FsStats* out)>;

// statfs(2) on path.
int StatFs(const std::string& path, FsStats* out);

enum class StatState {
  kOk,      // the call returned 0 before the deadline
  kFailed,  // the call returned an error (error) before the deadline
  kStuck,   // a call on this path is outstanding past a deadline
  kNotRun,  // no thread was free to make the call before the deadline
};

struct StatOutcome {
  StatState state = StatState::kNotRun;
  int error = 0;             // with kFailed
  FsStats stats;             // with kOk
  bool newly_stuck = false;  // with kStuck: this Run's deadline made it so
};

// The paths whose statfs call is stuck, shared by the runners that hold
// it; thread-safe. Kept apart from a runner because a stuck call outlives
// the runner (and the plugin instance) that made it.
class StuckPaths {
 public:
  // The one set of the process, for the plugin's runners.
  static std::shared_ptr<StuckPaths> Process();

  bool Contains(const std::string& path) const;
  void Add(const std::string& path);
  // Removes path and lists it for TakeRecovered.
  void Recovered(const std::string& path);
  std::vector<std::string> TakeRecovered();

 private:
  mutable Mutex mu_;
  std::unordered_set<std::string> stuck_ GUARDED_BY(mu_);
  std::vector<std::string> recovered_ GUARDED_BY(mu_);
};

class StatRunner {
 public:
  // Workers kept for the next collect.
  static constexpr int kIdleWorkers = 4;
  // All worker threads, stuck ones included: the most one instance ever
  // holds.
  static constexpr int kMaxThreads = 32;

  // stuck: the set shared with other runners; nullptr for one of its own.
  explicit StatRunner(StatFn stat, std::shared_ptr<StuckPaths> stuck = nullptr,
                      int idle_workers = kIdleWorkers,
                      int max_threads = kMaxThreads);
  // Tells the workers to stop and returns without waiting for any.
  ~StatRunner();
  StatRunner(const StatRunner&) = delete;
  StatRunner& operator=(const StatRunner&) = delete;

  // Stats each of paths (a path given twice is statted once) and waits for
  // the calls until deadline. (*out)[i] is the outcome for paths[i]. Paths
  // stuck from an earlier Run, or in the shared StuckPaths, are not called
  // again. Never throws for a
  // thread that cannot be started (that path is kNotRun); may throw
  // std::bad_alloc.
  void Run(const std::vector<std::string>& paths,
           std::chrono::steady_clock::time_point deadline,
           std::vector<StatOutcome>* out);

  // The paths whose stuck call has returned since the last call, once each
  // (of every runner sharing the StuckPaths).
  std::vector<std::string> TakeRecovered();

  // Worker threads alive now (for tests).
  int threads() const;
  // Paths stuck now (for tests).
  int stuck() const;

  // What the workers share with the runner (stat_runner.cpp).
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace sysmetrics::filesystem
