// Collector: one running instance of a plugin, and the worker that runs it.
//
// A Collector owns the plugin instance (create at construction, destroy at
// destruction), the host context the plugin sees (sm_host: its options,
// roots, logging) and a dedicated worker thread that calls collect(). A
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

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metric_set.hpp"
#include "plugin_loader.hpp"
#include "plugin_options.hpp"
#include "status.hpp"

// The host side of the opaque handles in plugin.h.
struct sm_host {
  std::string plugin_name;
  sysmetrics::PluginOptions options;
  std::string procfs_root;
  std::string sysfs_root;
};

struct sm_emitter {
  sm_host* host = nullptr;
  sysmetrics::MetricSet* set = nullptr;
  std::size_t problems = 0;  // refused families/samples in this collect
};

namespace sysmetrics {

using Clock = std::chrono::steady_clock;

// The table of host services handed to every plugin.
const sm_host_api& HostApi();

struct CollectorSettings {
  std::string procfs_root = "/proc";
  std::string sysfs_root = "/sys";
  std::size_t sample_limit = 0;  // 0: unlimited
  // Longest a collect may take in one scrape; zero: the scrape's deadline.
  Clock::duration timeout{};
};

// One execution of collect(). Read-only for scrapes once done.
struct Run {
  MetricSet metrics;
  bool ok = false;
  std::string error;
  Clock::time_point started;
  Clock::time_point deadline;
  double seconds = 0;  // duration of collect()
  bool done = false;   // guarded by the collector's mutex until observed
};

class Collector {
 public:
  // Creates the plugin instance; fails with the plugin's own reason.
  static Result<std::unique_ptr<Collector>> Create(
      std::shared_ptr<LoadedPlugin> plugin, PluginOptions options,
      const CollectorSettings& settings, sm_status* create_status = nullptr);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  const std::string& name() const { return plugin_->info().name; }
  const PluginInfo& info() const { return plugin_->info(); }
  const CollectorSettings& settings() const { return settings_; }

  enum class StartKind { kStarted, kJoined, kBusy };
  // Starts a run that must finish by deadline, or joins the one in flight.
  // kBusy (null run) when a run from an earlier scrape is past its deadline.
  std::shared_ptr<const Run> Start(Clock::time_point deadline, StartKind* kind);
  // True once run is done; false if deadline passed first.
  bool Wait(const std::shared_ptr<const Run>& run, Clock::time_point deadline);

  // Failures since start (each scrape that saw this collector fail counts).
  std::uint64_t errors() const;
  void CountError();

 private:
  Collector(std::shared_ptr<LoadedPlugin> plugin, CollectorSettings settings);
  void WorkerLoop();
  void Execute(Run& run);
  std::shared_ptr<Run> NewRun();

  std::shared_ptr<LoadedPlugin> plugin_;
  CollectorSettings settings_;
  sm_host host_;
  void* instance_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // worker waits for a run or stop
  std::condition_variable done_cv_;  // scrapes wait for the run to finish
  std::shared_ptr<Run> current_;     // in flight, null when idle
  bool run_pending_ = false;         // current_ not yet picked up
  bool stop_ = false;
  std::vector<std::unique_ptr<Run>> spare_;  // recycled runs
  std::uint64_t errors_ = 0;
  std::thread worker_;
};

}  // namespace sysmetrics
