// Collector: one running instance of a plugin, and the worker that runs it.
//
// A Collector owns the plugin instance (create at construction, destroy at
// destruction), the host context the plugin sees (sm_host: its options,
// roots, logging); its runs execute on the exporter's CollectorPool, or on
// the scraping thread for a non-blocking plugin (Exporter::Scrape). A
// scrape asks for a Run with Start(); if a run is already in flight and still
// within its deadline the scrape joins it instead of starting a second one
// (contract 3 of plugin.h: collect is never concurrent with itself), and if
// the in-flight run is past its deadline the scrape is told the collector is
// busy. Wait() blocks until the run is done or the caller's deadline passes;
// a late run keeps going and its output is discarded.
//
// Thread-safe: Start and Wait may be called from any number of threads.
#pragma once

#include <sysmetrics/plugin.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.hpp"
#include "plugin/plugin_loader.hpp"
#include "plugin/plugin_options.hpp"
#include "scrape/metric_set.hpp"
#include "scrape/name_ownership.hpp"
#include "scrape/node_names.hpp"
#include "util/status.hpp"

// The host side of the opaque handles in plugin.h.
struct sm_host {
  std::string plugin_name;
  sysmetrics::PluginOptions options;
  std::string procfs_root;
  std::string sysfs_root;
  // The skipped lines already logged ("file:line"), so each is logged once
  // per instance; at most kMaxLoggedLines, then one line says the rest are
  // counted only. Touched only inside collect(), which never overlaps
  // itself (plugin.h, 3).
  static constexpr std::size_t kMaxLoggedLines = 100;
  std::set<std::string, std::less<>> logged_lines;
  // What the name-ownership check needs (name_ownership.hpp), as plain
  // data so it can run wherever begin_family runs. A shipped plugin owns
  // what it emits; a third-party one its namespace, less the namespaces of
  // the enabled collectors whose names extend its own (longer_names) and
  // the names reserved (null: the host's own names only). Set before the
  // first collect, read-only after.
  bool shipped = false;
  std::vector<std::string> longer_names;
  std::shared_ptr<sysmetrics::ReservedNameBoard> reserved;
  // The refused families already logged, like logged_lines.
  std::set<std::string, std::less<>> logged_families;
  // Non-null in node mode for a built-in collector (not textfile): its
  // families are renamed as they are emitted (node_names.hpp).
  const sysmetrics::NodeNameMap* node_names = nullptr;
};

struct sm_emitter {
  sm_host* host = nullptr;
  sysmetrics::MetricSet* set = nullptr;
  std::size_t problems = 0;   // refused families/samples in this collect
  std::uint64_t skipped = 0;  // lines reported through skip_line
  std::uint64_t refused_families = 0;  // in this collect
  // The family begun last was refused for its name's owner: its samples
  // are refused without a log line each.
  bool not_owned = false;
  // host->reserved as of the first check in this collect.
  std::shared_ptr<const sysmetrics::ReservedNames> reserved;
  // In node mode, the row that renamed the family begun last (its label
  // and scale apply to the samples), or null.
  const sysmetrics::NodeNameRow* node_row = nullptr;
  std::string node_family;  // that family's node name
};

namespace sysmetrics {

using Clock = std::chrono::steady_clock;
class PluginHelper;

// The table of host services handed to every plugin.
const sm_host_api& HostApi();

struct CollectorSettings {
  std::string procfs_root = "/proc";
  std::string sysfs_root = "/sys";
  std::size_t sample_limit = 0;  // 0: unlimited
  // Longest a collect may take in one scrape; zero: the scrape's deadline.
  Clock::duration timeout{};
  // Run collect() on the scraping thread (the plugin promised it never
  // blocks, and the configuration allows it): no hand-off to the pool.
  bool run_inline = false;
  // Serve node_exporter's names for this collector's families
  // (node_names.hpp); only for a built-in other than textfile.
  bool node_names = false;
};

// A scrape waiting for runs: the number of its runs not yet finished, and
// how many of those it has given up on and no longer waits for (wake_at,
// set by the scrape before each wait). A run that finishes leaves pending
// at or below wake_at only when no run the scrape waits for is left, and
// only then wakes it: a scrape sleeps and wakes once however many
// collectors it waits for, and never spins while runs it gave up on finish.
struct RunWaiter {
  Mutex mu;
  CondVar cv;
  std::size_t pending GUARDED_BY(mu) = 0;
  std::size_t wake_at GUARDED_BY(mu) = 0;
};

// One execution of collect(). Read-only for scrapes once done is true.
struct Run {
  MetricSet metrics;
  bool ok = false;
  std::string error;
  Clock::time_point started;
  Clock::time_point deadline;
  double seconds = 0;                  // duration of collect()
  std::uint64_t skipped_lines = 0;     // reported through skip_line
  std::uint64_t refused_families = 0;  // refused at begin_family
  // Set (release) after every other member; read (acquire) before them.
  std::atomic<bool> done{false};
  // Scrapes to wake when done; guarded by the collector's mutex.
  std::vector<std::shared_ptr<RunWaiter>> waiters;
};

class Collector {
 public:
  // Creates the plugin instance; fails with the plugin's own reason.
  static Result<std::unique_ptr<Collector>> Create(
      std::shared_ptr<LoadedPlugin> plugin, PluginOptions options,
      const CollectorSettings& settings, sm_status* create_status = nullptr);
  // The same, for a plugin isolated in a helper process (plugin_helper.hpp):
  // the instance is created there, and runs ask the helper to collect.
  static Result<std::unique_ptr<Collector>> CreateIsolated(
      std::unique_ptr<PluginHelper> helper, PluginOptions options,
      const CollectorSettings& settings, sm_status* create_status = nullptr);
  // Destroys the plugin instance (or stops its helper). No run may be
  // executing.
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  const std::string& name() const { return info_->name; }
  const PluginInfo& info() const { return *info_; }
  // Whether collect() runs in a helper process.
  bool isolated() const { return helper_ != nullptr; }
  // Helper processes started again after a failure (isolated only).
  std::uint64_t restarts() const;
  const CollectorSettings& settings() const { return settings_; }

  // Whether scrapes run collect() on their own thread: settings().run_inline
  // until an inline run overstays its deadline, then never again for this
  // instance (the pool can abandon a late run; the scraping thread cannot).
  bool RunsInline() const {
    return settings_.run_inline && !demoted_.load(std::memory_order_relaxed);
  }
  // Called by the scrape whose inline run finished past its deadline; logs
  // the change once.
  void StopRunningInline(double seconds);

  enum class StartKind { kStarted, kJoined, kBusy };
  // Creates a run that must finish by deadline (kStarted: the caller must
  // hand it to Execute, on a pool thread or, when RunsInline, its own) or
  // joins the one in flight
  // (kJoined). kBusy (null run) when a run from an earlier scrape is still
  // going past its deadline. waiter, if set, is woken when the run is done.
  std::shared_ptr<Run> Start(Clock::time_point deadline, StartKind* kind,
                             const std::shared_ptr<RunWaiter>& waiter);
  // Calls the plugin's collect() for run, then marks it done and wakes its
  // waiters. On a CollectorPool thread, or on the scraping thread for a
  // collector that RunsInline.
  void Execute(const std::shared_ptr<Run>& run);

  // Whether a run is in flight (started and not yet done, or queued).
  bool running() const {
    MutexLock lock(mu_);
    return current_ != nullptr;
  }

  // Failures since start (each scrape that saw this collector fail counts).
  std::uint64_t errors() const;
  // Input lines the plugin skipped since start (each run counts once, even
  // when several scrapes share it).
  std::uint64_t skipped_lines() const;
  // Families refused from this collector since start: at begin_family
  // (each run counts once) and by the merge (each scrape that drops one).
  std::uint64_t refused_families() const;
  // Counts families of this collector's run that a scrape's merge dropped.
  void CountRefusedFamilies(std::uint64_t n);

  // Gives the name-ownership check what it needs beyond this plugin's own
  // name (sm_host): the enabled collectors whose names extend this one's
  // (LongerCollectorNames), and the exporter's reserved names, which the
  // families a shipped collector serves join. Call before the first Start.
  void ShareNames(std::vector<std::string> longer_names,
                  std::shared_ptr<ReservedNameBoard> reserved);

  // How the collector fared in the latest scrape that ran it (the landing
  // page shows it).
  struct LastScrape {
    bool seen = false;  // false until a scrape ran it
    bool success = false;
    double seconds = 0;
    std::string error;
    std::chrono::system_clock::time_point when;
  };
  // Records one scrape's outcome; a failure also counts in errors().
  void RecordScrape(bool success, double seconds, const std::string& error);
  LastScrape last_scrape() const;

  // The families this collector has served since it was created, sorted by
  // name (at most kMaxKnownFamilies). A scrape in which it fails or is not
  // asked for still reserves them, so a collector merged later (textfile)
  // cannot take one of its names over. Never null.
  struct KnownFamily {
    std::string name;
    MetricType type = MetricType::kUntyped;
  };
  static constexpr std::size_t kMaxKnownFamilies = 100000;
  std::shared_ptr<const std::vector<KnownFamily>> known_families() const;

 private:
  Collector(std::shared_ptr<LoadedPlugin> plugin,
            std::unique_ptr<PluginHelper> helper, CollectorSettings settings);
  // One call of collect(), in process or in the helper; the reason of a
  // failure in *error.
  sm_status CallCollect(sm_emitter* em, const Run& run, std::string* error);
  std::shared_ptr<Run> NewRun() REQUIRES(mu_);
  // Adds the families of a successful run to known_ (Execute only: runs of
  // one collector never overlap, so read-then-replace is safe).
  void NoteFamilies(const MetricSet& set);

  std::shared_ptr<LoadedPlugin> plugin_;  // null when isolated
  std::unique_ptr<PluginHelper> helper_;  // null when in process
  const PluginInfo* info_;                // the plugin's or the helper's
  CollectorSettings settings_;
  sm_host host_;
  void* instance_ = nullptr;

  mutable Mutex mu_;
  std::atomic<bool> demoted_{false};  // see RunsInline
  // In flight, null when idle.
  std::shared_ptr<Run> current_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Run>> spare_ GUARDED_BY(mu_);  // recycled runs
  std::uint64_t errors_ GUARDED_BY(mu_) = 0;
  std::uint64_t skipped_lines_ GUARDED_BY(mu_) = 0;
  std::uint64_t refused_families_ GUARDED_BY(mu_) = 0;
  LastScrape last_ GUARDED_BY(mu_);
  std::shared_ptr<const std::vector<KnownFamily>> known_ GUARDED_BY(mu_) =
      std::make_shared<const std::vector<KnownFamily>>();
};

// Threads that execute runs. It grows on demand up to max_threads (one per
// collector is enough: a collector has at most one run in flight, so even
// with every other collector hung, a run always finds a thread).
// Thread-safe.
class CollectorPool {
 public:
  explicit CollectorPool(std::size_t max_threads);
  // Waits up to bound for running tasks; see Stop.
  ~CollectorPool();
  CollectorPool(const CollectorPool&) = delete;
  CollectorPool& operator=(const CollectorPool&) = delete;

  void Submit(Collector* collector, std::shared_ptr<Run> run);

  // Stops taking tasks, drops queued ones and waits up to bound for the
  // running ones. Returns true if none is running any more (threads joined);
  // false if some are still inside a plugin (threads detached).
  bool Stop(Clock::duration bound);

 private:
  struct Task {
    Collector* collector;
    std::shared_ptr<Run> run;
  };
  void Loop();

  const std::size_t max_threads_;
  Mutex mu_;
  CondVar cv_;       // tasks or stop
  CondVar idle_cv_;  // running_ dropped to zero
  std::vector<Task> queue_ GUARDED_BY(mu_);
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
  std::size_t idle_ GUARDED_BY(mu_) = 0;
  std::size_t running_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
};

}  // namespace sysmetrics
