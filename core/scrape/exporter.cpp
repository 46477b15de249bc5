#include "scrape/exporter.hpp"

#include <sysmetrics/plugin.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/log.hpp"
#include "util/number_format.hpp"
#include "util/step_aside.hpp"

#ifndef SYSMETRICS_VERSION
#define SYSMETRICS_VERSION "0.0.0-dev"
#endif

namespace sysmetrics {
namespace {

// One family in merge order; order 0 is reserved for the host's own names.
struct FamilyRef {
  std::string_view name;
  std::uint32_t order = 0;
  MetricType type = MetricType::kUntyped;
};

// The suffixed names a histogram or summary family's samples also occupy.
std::span<const std::string_view> ExtraNames(MetricType type) {
  static constexpr std::string_view kHistogram[] = {"_bucket", "_sum",
                                                    "_count"};
  static constexpr std::string_view kSummary[] = {"_sum", "_count"};
  if (type == MetricType::kHistogram) return kHistogram;
  if (type == MetricType::kSummary) return kSummary;
  return {};
}

// Marks in dropped[order] every family that uses a name an earlier family
// (lower order) already uses. refs is sorted here.
void MarkClashes(std::vector<FamilyRef>& refs, std::vector<bool>& dropped) {
  std::sort(refs.begin(), refs.end(),
            [](const FamilyRef& a, const FamilyRef& b) {
              return a.name != b.name ? a.name < b.name : a.order < b.order;
            });
  for (std::size_t i = 1; i < refs.size(); ++i) {
    if (refs[i].name == refs[i - 1].name) dropped[refs[i].order] = true;
  }
  thread_local std::string probe;
  auto mark = [&](const FamilyRef& f) {
    auto it = std::lower_bound(
        refs.begin(), refs.end(), probe,
        [](const FamilyRef& r, const std::string& n) { return r.name < n; });
    for (; it != refs.end() && it->name == probe; ++it) {
      dropped[std::max(it->order, f.order)] = true;
    }
  };
  for (const FamilyRef& f : refs) {
    for (const std::string_view suffix : ExtraNames(f.type)) {
      probe.assign(f.name).append(suffix);
      mark(f);
    }
    // A counter's other name in OpenMetrics: the family name without
    // "_total", or the sample name with it.
    if (f.type == MetricType::kCounter) {
      const std::string_view base =
          OpenMetricsFamilyName(f.name, MetricType::kCounter);
      if (base.size() != f.name.size()) {
        probe.assign(base);
      } else {
        probe.assign(f.name).append("_total");
      }
      mark(f);
    }
  }
}

// MarkClashes' answer for the families of this thread's last scrape. A
// scrape nearly always merges the same names, types and order as the one
// before; comparing them is a fraction of sorting and probing them again,
// which was a tenth of a scrape's own (user) instructions.
class ClashCache {
 public:
  // Fills dropped (sized to the highest order + 1, all false) for refs,
  // which may be reordered.
  void Mark(std::vector<FamilyRef>& refs, std::vector<bool>& dropped) {
    if (!Same(refs)) {
      Remember(refs);
      MarkClashes(refs, dropped);
      dropped_ = dropped;
      return;
    }
    dropped = dropped_;
  }

 private:
  struct Entry {
    std::size_t offset;
    std::size_t size;
    std::uint32_t order;
    MetricType type;
  };

  bool Same(const std::vector<FamilyRef>& refs) const {
    if (refs.size() != entries_.size()) return false;
    for (std::size_t i = 0; i < refs.size(); ++i) {
      const Entry& e = entries_[i];
      if (refs[i].order != e.order || refs[i].type != e.type ||
          refs[i].name != std::string_view(names_).substr(e.offset, e.size)) {
        return false;
      }
    }
    return true;
  }

  void Remember(const std::vector<FamilyRef>& refs) {
    names_.clear();
    entries_.clear();
    for (const FamilyRef& r : refs) {
      entries_.push_back({names_.size(), r.name.size(), r.order, r.type});
      names_.append(r.name);
    }
  }

  std::string names_;
  std::vector<Entry> entries_;
  std::vector<bool> dropped_;
};

std::string FormatSeconds(double s) {
  std::string out;
  AppendValue(out, s);
  return out;
}

}  // namespace

BuildInfo CurrentBuildInfo() {
  BuildInfo b;
  b.version = SYSMETRICS_VERSION;
#if defined(__clang__)
  b.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  b.compiler = "gcc " __VERSION__;
#else
  b.compiler = "unknown";
#endif
  return b;
}

Exporter::Exporter(std::vector<std::unique_ptr<Collector>> collectors,
                   std::vector<RefusedCollector> refused,
                   const std::vector<std::string>& disabled)
    : collectors_(std::move(collectors)),
      refused_(std::move(refused)),
      pool_(std::make_unique<CollectorPool>(collectors_.size())),
      build_(CurrentBuildInfo()) {
  ShareNames();
  for (const std::string& name : disabled) {
    unavailable_.push_back(
        {name, "is disabled: enable it with `[collectors." + name +
                   "] enabled = true` in the configuration (or --collector." +
                   name + ") and reload"});
  }
  for (const RefusedCollector& r : refused_) {
    unavailable_.push_back(
        {r.name,
         "is enabled but its plugin was refused at load; the "
         "exporter's log says why"});
  }
  MetricSet info;
  info.BeginFamily(kHostFamilies[kBuildInfo],
                   "Build of the running exporter; always 1.",
                   MetricType::kGauge);
  const std::string abi = std::to_string(SM_ABI_VERSION_MAJOR) + "." +
                          std::to_string(SM_ABI_VERSION_MINOR);
  const LabelView build[] = {
      {"version", build_.version}, {"compiler", build_.compiler}, {"abi", abi}};
  info.AddSample({}, build, 1);
  info.BeginFamily(kHostFamilies[kPluginInfo],
                   "One series per loaded plugin; always 1.",
                   MetricType::kGauge);
  for (const auto& c : collectors_) {
    const PluginInfo& p = c->info();
    const std::string plugin_abi =
        std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
    const LabelView l[] = {{"name", p.name},
                           {"version", p.version},
                           {"abi", plugin_abi},
                           {"file", p.file}};
    info.AddSample({}, l, 1);
  }
  info.Finish();
  AppendSetText(info_text_, info);
  AppendSetOpenMetrics(info_openmetrics_, info);
}

void Exporter::ShareNames() {
  std::vector<std::string> enabled;
  for (const auto& c : collectors_) enabled.push_back(c->name());
  for (const RefusedCollector& r : refused_) enabled.push_back(r.name);
  auto reserved = std::make_shared<ReservedNameBoard>();
  for (const auto& c : collectors_) {
    c->ShareNames(LongerCollectorNames(c->name(), enabled), reserved);
  }
  merge_order_.resize(collectors_.size());
  for (std::size_t i = 0; i < merge_order_.size(); ++i) merge_order_[i] = i;
  const auto rank = [&](std::size_t i) {
    return RankOf(collectors_[i]->name(), collectors_[i]->info().shipped);
  };
  std::stable_sort(
      merge_order_.begin(), merge_order_.end(),
      [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
}

bool Exporter::StopRuns(Clock::duration bound) {
  runs_stopped_ = true;
  return pool_->Stop(bound);
}

Exporter::~Exporter() {
  const Clock::duration bound = runs_stopped_
                                    ? Clock::duration::zero()
                                    : Clock::duration(std::chrono::seconds(5));
  if (pool_->Stop(bound)) return;  // members destroyed next
  // Only the collectors still inside a plugin call are left; the others
  // are destroyed as usual (an isolated one's helper process is ended, not
  // left to pile up with each reload).
  std::string stuck;
  for (auto& c : collectors_) {
    if (!c->running()) continue;
    stuck += (stuck.empty() ? "" : ",") + c->name();
    (void)c.release();  // NOLINT(bugprone-unused-return-value): leaked
  }
  (void)pool_.release();
  Log(LogLevel::kError,
      "collectors still running at unload; left in memory rather than freed "
      "under a running plugin",
      {{"collectors", stuck}});
}

// What a scrape keeps per collector, and the scratch of its phases. One per
// thread (thread_local in Scrape), so the steady state does not allocate.
struct Exporter::Scratch {
  struct Slot {
    std::shared_ptr<Run> run;  // written only by Execute, read after done
    Collector::StartKind kind = Collector::StartKind::kStarted;
    Clock::time_point deadline;
    bool done = false;
  };
  using Known = std::shared_ptr<const std::vector<Collector::KnownFamily>>;

  std::vector<Slot> slots;
  std::vector<Known> held;  // keeps known names alive
  std::vector<bool> inline_run;
  std::vector<bool> gave_up;
  // The collectors that run, in order: report->collectors[k] is
  // collectors_[index[k]].
  std::vector<std::size_t> index;
  std::vector<FamilyRef> refs;
  std::vector<const MetricSet*> served;
  std::vector<bool> dropped;
  ClashCache clashes;
  MetricSet self;
  // Shared with runs that may outlive the scrape (a late one); reused only
  // when no run still holds it.
  std::shared_ptr<RunWaiter> waiter;
};

namespace {

// Whether the scrape asked for collector i (an empty selection asks for
// all).
bool Selected(const ScrapeOptions& options, std::size_t i) {
  return options.selected.empty() ||
         (i < options.selected.size() && options.selected[i]);
}

}  // namespace

void Exporter::Scrape(const ScrapeOptions& options, std::string* out,
                      ScrapeReport* report) {
  const Clock::time_point t0 = Clock::now();
  report->format = options.format;
  thread_local Scratch scratch;
  Scratch& s = scratch;
  s.slots.assign(collectors_.size(), Scratch::Slot{});
  s.held.clear();
  // Release the runs on every way out, not when this thread next scrapes:
  // a run returns itself to its collector, which a reload may destroy in
  // between. Also when an exception leaves (bad_alloc, or a pool thread
  // that could not be started).
  struct Release {
    Scratch& s;
    explicit Release(Scratch& held_scratch) : s(held_scratch) {}
    Release(const Release&) = delete;
    Release& operator=(const Release&) = delete;
    ~Release() {
      for (Scratch::Slot& slot : s.slots) slot.run.reset();
      s.held.clear();
    }
  } const release(s);
  ResetWaiter(s);
  StartRuns(options, t0, s);
  RunInline(s);
  WaitForRuns(s);
  ReportRuns(options, s, report);
  MergeFamilies(options, *report, s, out);
  AppendHostFamilies(options, t0, s, report, out);
}

void Exporter::ResetWaiter(Scratch& s) {
  if (s.waiter == nullptr || s.waiter.use_count() != 1) {
    s.waiter = std::make_shared<RunWaiter>();
  }
  // Under its lock: the pool thread whose run last held the waiter wrote
  // it under the lock, and use_count() (a relaxed load) orders nothing
  // (TSan saw this race in CI).
  RunWaiter& w = *s.waiter;
  MutexLock lock(w.mu);
  w.pending = 0;
  w.wake_at = 0;
}

// Sets each selected collector's deadline and starts those that go to the
// pool; the inline ones are started by RunInline, each just before it runs.
void Exporter::StartRuns(const ScrapeOptions& options, Clock::time_point t0,
                         Scratch& s) {
  const std::size_t n = collectors_.size();
  s.inline_run.assign(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    Scratch::Slot& slot = s.slots[i];
    if (!Selected(options, i)) {
      slot.kind = Collector::StartKind::kBusy;  // not started: no run
      continue;
    }
    const Clock::duration cap = collectors_[i]->settings().timeout;
    slot.deadline = cap == Clock::duration::zero()
                        ? options.deadline
                        : std::min(options.deadline, t0 + cap);
    s.inline_run[i] = collectors_[i]->RunsInline();
    if (s.inline_run[i]) continue;
    slot.run = collectors_[i]->Start(slot.deadline, &slot.kind, s.waiter);
    if (slot.kind == Collector::StartKind::kStarted) {
      pool_->Submit(collectors_[i].get(), slot.run);
    }
  }
}

// Collectors that promised never to block run here, while the pool works
// on the others: no hand-off and no wake-up for them (plugin.h 7). Each is
// started only when its turn comes, so one that blocks after all holds
// this scrape and itself, never the collectors after it: the next scrape
// finds it busy and runs them. One that overstays its deadline goes to the
// pool for good (Collector::RunsInline).
void Exporter::RunInline(Scratch& s) {
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    if (!s.inline_run[i]) continue;
    Scratch::Slot& slot = s.slots[i];
    slot.run = collectors_[i]->Start(slot.deadline, &slot.kind, s.waiter);
    if (slot.kind != Collector::StartKind::kStarted) continue;
    collectors_[i]->Execute(slot.run);
    if (Clock::now() > slot.deadline) {
      collectors_[i]->StopRunningInline(slot.run->seconds);
    }
  }
}

// Sleeps until every run is done or has passed its own deadline, then sets
// each slot's done. Runs given up on still count in pending until they
// finish; wake_at is how many of those are not done, as seen under the
// lock (a run sets done before it takes the lock to count itself out, so a
// run seen not done has not counted itself out yet: pending <= wake_at
// then means no run we wait for is left). A stale wake_at costs at most
// one early wake.
//
// While it sleeps, the scraping thread steps aside (util/step_aside.hpp):
// a scrape that waits for a slow collector on the pool does not hold back
// the scrapes queued behind it.
void Exporter::WaitForRuns(Scratch& s) {
  std::optional<StepAside> aside;  // from the first wait to the end
  const std::size_t n = s.slots.size();
  s.gave_up.assign(n, false);
  const auto done = [&](std::size_t i) {
    return s.slots[i].run->done.load(std::memory_order_acquire);
  };
  const auto waiting_for = [&](std::size_t i) {
    return s.slots[i].run != nullptr && !s.gave_up[i] && !done(i);
  };
  for (;;) {
    Clock::time_point next = Clock::time_point::max();
    for (std::size_t i = 0; i < n; ++i) {
      if (waiting_for(i)) next = std::min(next, s.slots[i].deadline);
    }
    if (next == Clock::time_point::max()) break;
    if (!aside.has_value()) aside.emplace();
    {
      RunWaiter& w = *s.waiter;
      MutexLock lock(w.mu);
      std::size_t late = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (s.gave_up[i] && !done(i)) ++late;
      }
      w.wake_at = late;
      while (w.pending > w.wake_at) {
        if (!w.cv.WaitUntil(w.mu, next)) break;
      }
    }
    const Clock::time_point now = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      if (waiting_for(i) && now >= s.slots[i].deadline) s.gave_up[i] = true;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    s.slots[i].done = s.slots[i].run != nullptr && !s.gave_up[i] && done(i);
  }
}

// Lists the collectors that ran in the report, in order, with how each
// went; records it with the collector and logs each failure.
void Exporter::ReportRuns(const ScrapeOptions& options, Scratch& s,
                          ScrapeReport* report) {
  report->collectors.clear();
  s.index.clear();
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    if (Selected(options, i)) s.index.push_back(i);
  }
  report->collectors.resize(s.index.size());
  for (std::size_t k = 0; k < s.index.size(); ++k) {
    const std::size_t i = s.index[k];
    CollectorReport& r = report->collectors[k];
    const Scratch::Slot& slot = s.slots[i];
    r.name = collectors_[i]->name();
    if (slot.run == nullptr) {
      r.error = "still running from an earlier scrape, past its deadline";
      r.seconds = 0;
    } else if (!slot.done) {
      const double budget =
          std::chrono::duration<double>(slot.deadline - slot.run->started)
              .count();
      r.error = "did not finish before its deadline (" + FormatSeconds(budget) +
                " s)";
      r.seconds = budget;
    } else {
      r.success = slot.run->ok;
      r.seconds = slot.run->seconds;
      if (!r.success) r.error = slot.run->error;
    }
    collectors_[i]->RecordScrape(r.success, r.seconds, r.error);
    if (!r.success) {
      Log(LogLevel::kError, "collector failed",
          {{"collector", r.name}, {"error", r.error}});
    }
  }
}

// Appends the families of the collectors that succeeded to out, in merge
// order, but those whose name an earlier family uses: order 0 is the host,
// then each family in merge order (shipped collectors, third-party ones,
// textfile; name_ownership.hpp). A collector that failed or was not asked
// for still holds the names it has served before, in its place in the
// order: a collector merged later (textfile last) never takes them over.
void Exporter::MergeFamilies(const ScrapeOptions& options,
                             const ScrapeReport& report, Scratch& s,
                             std::string* out) {
  s.refs.clear();
  for (const std::string_view name : kHostFamilies) {
    s.refs.push_back({name, 0, MetricType::kGauge});
  }
  s.served.assign(collectors_.size(), nullptr);
  for (std::size_t k = 0; k < s.index.size(); ++k) {
    if (report.collectors[k].success) {
      s.served[s.index[k]] = &s.slots[s.index[k]].run->metrics;
    }
  }
  std::uint32_t order = 1;
  for (const std::size_t i : merge_order_) {
    if (s.served[i] != nullptr) {
      const MetricSet& set = *s.served[i];
      for (const MetricSet::Family& f : set.families()) {
        s.refs.push_back({set.str(f.name), order++, f.type});
      }
    } else {
      s.held.push_back(collectors_[i]->known_families());
      for (const Collector::KnownFamily& f : *s.held.back()) {
        s.refs.push_back({f.name, order++, f.type});
      }
    }
  }
  s.dropped.assign(order, false);
  s.clashes.Mark(s.refs, s.dropped);

  // A dropped family is charged to the collector that emitted it, never to
  // the owner of the name.
  order = 1;
  std::size_t next_held = 0;
  for (const std::size_t i : merge_order_) {
    if (s.served[i] == nullptr) {
      order += static_cast<std::uint32_t>(s.held[next_held++]->size());
      continue;
    }
    const MetricSet& set = *s.served[i];
    std::uint64_t refused = 0;
    for (const MetricSet::Family& f : set.families()) {
      if (!s.dropped[order++]) {
        AppendFamily(*out, set, f, options.format);
        continue;
      }
      ++refused;
      Log(LogLevel::kWarn,
          "metric family dropped: its name is already used by the host, a "
          "collector merged before this one, or a collector that served it "
          "before",
          {{"collector", collectors_[i]->name()}, {"family", set.str(f.name)}});
    }
    if (refused != 0) collectors_[i]->CountRefusedFamilies(refused);
  }
}

// Appends the host's own families (kHostFamilies) to out: per collector,
// per scrape, the process', and build and plugin info, which never change
// and were rendered once, in the constructor. Sets report->seconds.
void Exporter::AppendHostFamilies(const ScrapeOptions& options,
                                  Clock::time_point t0, Scratch& s,
                                  ScrapeReport* report, std::string* out) {
  MetricSet& self = s.self;
  self.Clear();
  self.BeginFamily(kHostFamilies[kCollectorSuccess],
                   "1 if the collector succeeded in this scrape, else 0.",
                   MetricType::kGauge);
  for (const CollectorReport& r : report->collectors) {
    LabelView l{"collector", r.name};
    self.AddSample({}, {&l, 1}, r.success ? 1 : 0);
  }
  // Enabled but never started: failed in every scrape that asks for all.
  if (options.selected.empty()) {
    for (const RefusedCollector& r : refused_) {
      LabelView l{"collector", r.name};
      self.AddSample({}, {&l, 1}, 0);
    }
  }
  self.BeginFamily(kHostFamilies[kScrapeDuration],
                   "Time the collector took in this scrape.",
                   MetricType::kGauge, "seconds");
  for (const CollectorReport& r : report->collectors) {
    LabelView l{"collector", r.name};
    self.AddSample({}, {&l, 1}, r.seconds);
  }
  // A counter per collector that ran, read through count.
  const auto per_collector = [&](HostFamily family, std::string_view help,
                                 std::uint64_t (Collector::*count)() const) {
    self.BeginFamily(kHostFamilies[family], help, MetricType::kCounter);
    for (const std::size_t i : s.index) {
      LabelView l{"collector", collectors_[i]->name()};
      self.AddSample({}, {&l, 1},
                     static_cast<double>((*collectors_[i].*count)()));
    }
  };
  per_collector(kCollectorErrors,
                "Scrapes in which the collector failed, since start.",
                &Collector::errors);
  per_collector(kCollectorSkippedLines,
                "Input lines the collector could not read and skipped, since "
                "start.",
                &Collector::skipped_lines);
  per_collector(kCollectorRefusedFamilies,
                "Metric families refused from the collector since start: "
                "names it does not own, invalid or repeated families, and "
                "families dropped because another collector serves the name.",
                &Collector::refused_families);
  // 0 for a collector in this process: the same series for every
  // collector, so one alert covers them all.
  per_collector(kCollectorRestarts,
                "Helper processes of an isolated collector started again "
                "after a crash, hang, protocol error or memory limit, since "
                "start.",
                &Collector::restarts);
  report->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  self.BeginFamily(kHostFamilies[kScrapeCollectSeconds],
                   "Time this whole scrape took to collect, all collectors.",
                   MetricType::kGauge, "seconds");
  self.AddSample({}, {}, report->seconds);
  process_.Append(&self);
  self.Finish();
  AppendSet(*out, self, options.format);
  if (options.format == ExpositionFormat::kOpenMetrics) {
    out->append(info_openmetrics_);
    out->append(kOpenMetricsEof);
  } else {
    out->append(info_text_);
  }
}

}  // namespace sysmetrics
