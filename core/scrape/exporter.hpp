// Exporter: the scrape path. Runs the collectors, merges their families and
// renders one exposition, with the host's own metrics at the end.
//
// Every scrape starts (or joins) a run of each collector on its worker and
// waits for all of them until the scrape deadline; a collector that fails or
// is late costs only its own families. A third-party plugin's family whose
// name it does not own is refused as it is emitted (name_ownership.hpp).
// The rest are merged after the host's own names, shipped collectors first,
// then third-party ones, then textfile (each group in collector order): a
// family whose name (or a name its histogram/summary samples would use) was
// already taken is dropped, logged and counted against the collector that
// emitted it, so the output never has two TYPE lines for one name, in
// either format (a counter "x_total" also takes OpenMetrics' family name
// "x", and a counter "x" the sample name "x_total").
//
// Thread-safe: any number of scrapes may run at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/thread_annotations.hpp"
#include "scrape/collector.hpp"
#include "scrape/process_metrics.hpp"
#include "scrape/scrape_query.hpp"
#include "scrape/text_format.hpp"

namespace sysmetrics {

struct BuildInfo {
  std::string version;
  std::string compiler;
};

BuildInfo CurrentBuildInfo();

struct ScrapeOptions {
  Clock::time_point deadline;
  ExpositionFormat format = ExpositionFormat::kText;
  // Collectors to run, by index into collectors(); empty: all of them.
  // Self-metrics then cover only those.
  std::vector<bool> selected;
};

struct CollectorReport {
  std::string name;
  bool success = false;
  double seconds = 0;
  std::string error;  // why it failed
};

struct ScrapeReport {
  ExpositionFormat format = ExpositionFormat::kText;
  double seconds = 0;
  std::vector<CollectorReport> collectors;
};

// An enabled collector the host could not start: its plugin could not be
// loaded, was refused (trust, ABI, descriptor) or its create() failed.
// Reported as failed in every scrape, and on the landing page with why.
struct RefusedCollector {
  std::string name;
  std::string file;
  std::string reason;
};

class Exporter {
 public:
  // disabled: the plugins present but not enabled, by collector name.
  explicit Exporter(std::vector<std::unique_ptr<Collector>> collectors,
                    std::vector<RefusedCollector> refused = {},
                    const std::vector<std::string>& disabled = {});
  // Waits (bounded) for runs still inside plugins, then destroys the
  // collectors in order. A collector whose collect() is still running past
  // the bound is never destroyed (that would free what it uses): it and the
  // pool are left to the process, with a log line.
  ~Exporter();

  // Stops the runs: drops queued ones and waits up to bound for the ones
  // inside plugins. Returns true if none is left running. The destructor
  // then waits no more; without this call it waits up to 5 s.
  bool StopRuns(Clock::duration bound);

  // Appends the exposition of one scrape to out, in options.format (with
  // OpenMetrics' "# EOF"), and fills report.
  void Scrape(const ScrapeOptions& options, std::string* out,
              ScrapeReport* report);

  const std::vector<std::unique_ptr<Collector>>& collectors() const {
    return collectors_;
  }
  const std::vector<RefusedCollector>& refused() const { return refused_; }
  // The collectors a scrape may name but that do not run: disabled, or
  // refused at load, each with what to tell the client.
  const std::vector<UnavailableCollector>& unavailable() const {
    return unavailable_;
  }

 private:
  // Gives each collector what the name-ownership check needs and sets
  // merge_order_.
  void ShareNames();

  // The phases of Scrape, in order (exporter.cpp), on this thread's
  // scratch.
  struct Scratch;
  static void ResetWaiter(Scratch& s);
  void StartRuns(const ScrapeOptions& options, Clock::time_point t0,
                 Scratch& s);
  void RunInline(Scratch& s);
  static void WaitForRuns(Scratch& s);
  void ReportRuns(const ScrapeOptions& options, Scratch& s,
                  ScrapeReport* report);
  void MergeFamilies(const ScrapeOptions& options, const ScrapeReport& report,
                     Scratch& s, std::string* out);
  void AppendHostFamilies(const ScrapeOptions& options, Clock::time_point t0,
                          Scratch& s, ScrapeReport* report, std::string* out);

  std::vector<std::unique_ptr<Collector>> collectors_;
  std::vector<RefusedCollector> refused_;
  // Indexes into collectors_ in the order their families are merged.
  std::vector<std::size_t> merge_order_;
  std::unique_ptr<CollectorPool> pool_;
  bool runs_stopped_ = false;  // StopRuns was called
  BuildInfo build_;
  ProcessMetrics process_;
  std::vector<UnavailableCollector> unavailable_;
  // build_info and plugin_info, rendered once per format.
  std::string info_text_;
  std::string info_openmetrics_;
};

}  // namespace sysmetrics

namespace sysmetrics {

// Holds the current Exporter; a reload swaps in a new one while scrapes that
// already hold the old one finish with it. The old one is kept until Reap
// finds no scrape holding it: destroying an Exporter may wait (up to 5 s)
// for a run its scrapes gave up on, and that wait belongs on the thread
// that reaps (main), not on the worker whose scrape happened to let go
// last, with a finished response not yet sent. Thread-safe.
class ExporterHolder {
 public:
  std::shared_ptr<Exporter> Get() const {
    MutexLock lock(mu_);
    return current_;
  }
  void Set(std::shared_ptr<Exporter> exporter) {
    MutexLock lock(mu_);
    if (current_ != nullptr) retired_.push_back(std::move(current_));
    current_ = std::move(exporter);
  }
  // Destroys, on the calling thread, the replaced exporters no scrape holds
  // any more; with all, lets go of every replaced one (a scrape still
  // holding one destroys it when done).
  void Reap(bool all = false) {
    std::vector<std::shared_ptr<Exporter>> done;
    {
      MutexLock lock(mu_);
      // Only this holder hands out references, and never to a replaced
      // exporter, so a count of 1 stays 1.
      const auto free = std::partition(
          retired_.begin(), retired_.end(),
          [all](const auto& e) { return !all && e.use_count() != 1; });
      std::move(free, retired_.end(), std::back_inserter(done));
      retired_.erase(free, retired_.end());
    }
    done.clear();  // outside the lock: Get must not wait for this
  }
  std::size_t retired() const {
    MutexLock lock(mu_);
    return retired_.size();
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<Exporter> current_ GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Exporter>> retired_ GUARDED_BY(mu_);
};

}  // namespace sysmetrics
