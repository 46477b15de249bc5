#include "exporter.hpp"

#include <sysmetrics/plugin.h>

#include <algorithm>
#include <array>

#include "log.hpp"
#include "text_format.hpp"

#ifndef SYSMETRICS_VERSION
#define SYSMETRICS_VERSION "0.0.0-dev"
#endif

namespace sysmetrics {
namespace {

struct NameOwner {
  std::string_view name;
  std::size_t order;  // position in merge order; lower wins
};

// The series names a family's samples occupy.
std::size_t OccupiedNames(std::string_view name, MetricType type,
                          std::string* scratch,
                          std::array<std::string_view, 4>* out) {
  switch (type) {
    case MetricType::kHistogram:
      scratch[0].assign(name).append("_bucket");
      scratch[1].assign(name).append("_sum");
      scratch[2].assign(name).append("_count");
      (*out)[0] = name;
      (*out)[1] = scratch[0];
      (*out)[2] = scratch[1];
      (*out)[3] = scratch[2];
      return 4;
    case MetricType::kSummary:
      scratch[1].assign(name).append("_sum");
      scratch[2].assign(name).append("_count");
      (*out)[0] = name;
      (*out)[1] = scratch[1];
      (*out)[2] = scratch[2];
      return 3;
    default:
      (*out)[0] = name;
      return 1;
  }
}

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

Exporter::Exporter(std::vector<std::unique_ptr<Collector>> collectors)
    : collectors_(std::move(collectors)), build_(CurrentBuildInfo()) {}

Exporter::~Exporter() = default;

void Exporter::Scrape(const ScrapeOptions& options, std::string* out,
                      ScrapeReport* report) {
  const Clock::time_point t0 = Clock::now();
  struct Slot {
    std::shared_ptr<const Run> run;
    Collector::StartKind kind = Collector::StartKind::kStarted;
    bool done = false;
  };
  const std::size_t n = collectors_.size();
  std::vector<Slot> slots(n);
  for (std::size_t i = 0; i < n; ++i) {
    slots[i].run = collectors_[i]->Start(options.deadline, &slots[i].kind);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (slots[i].run != nullptr) {
      slots[i].done = collectors_[i]->Wait(slots[i].run, options.deadline);
    }
  }

  report->collectors.clear();
  report->collectors.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    CollectorReport& r = report->collectors[i];
    const Slot& s = slots[i];
    r.name = collectors_[i]->name();
    if (s.run == nullptr) {
      r.error = "still running from an earlier scrape, past its deadline";
      r.seconds = 0;
    } else if (!s.done) {
      r.error = "did not finish before the scrape deadline";
      r.seconds =
          std::chrono::duration<double>(options.deadline - s.run->started)
              .count();
    } else {
      r.success = s.run->ok;
      r.seconds = s.run->seconds;
      if (!r.success) r.error = s.run->error;
    }
    if (!r.success) {
      collectors_[i]->CountError();
      Log(LogLevel::kError, "collector failed",
          {{"collector", r.name}, {"error", r.error}});
    }
  }

  // Merge: find each family's occupied names, keep the first owner.
  std::vector<NameOwner> owners;
  std::vector<std::string> scratch_names;
  std::size_t order = 0;
  std::vector<std::vector<bool>> keep(n);
  {
    std::vector<std::string> names_storage;  // for histogram/summary suffixes
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (report->collectors[i].success) {
        total += slots[i].run->metrics.families().size();
      }
    }
    names_storage.reserve(total * 3);
    owners.reserve(total * 4);
    for (std::size_t i = 0; i < n; ++i) {
      if (!report->collectors[i].success) continue;
      const MetricSet& set = slots[i].run->metrics;
      for (const MetricSet::Family& f : set.families()) {
        std::string scratch[3];
        std::array<std::string_view, 4> names;
        const std::size_t k =
            OccupiedNames(set.str(f.name), f.type, scratch, &names);
        for (std::size_t j = 0; j < k; ++j) {
          if (names[j].data() != set.str(f.name).data()) {
            names_storage.push_back(std::string(names[j]));
            names[j] = names_storage.back();
          }
          owners.push_back({names[j], order});
        }
        ++order;
      }
    }
    // Any name owned by two families: every family after the first owner
    // that uses it is dropped.
    std::stable_sort(owners.begin(), owners.end(),
                     [](const NameOwner& a, const NameOwner& b) {
                       return a.name < b.name;
                     });
    std::vector<bool> dropped(order, false);
    for (std::size_t j = 1; j < owners.size(); ++j) {
      if (owners[j].name == owners[j - 1].name) {
        // Keep the lowest order for the name; drop the others.
        std::size_t first = j - 1;
        while (first > 0 && owners[first - 1].name == owners[j].name) --first;
        std::size_t winner = owners[first].order;
        for (std::size_t m = first; m <= j; ++m) {
          winner = std::min(winner, owners[m].order);
        }
        if (owners[j].order != winner) dropped[owners[j].order] = true;
        if (owners[j - 1].order != winner) dropped[owners[j - 1].order] = true;
      }
    }
    order = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!report->collectors[i].success) continue;
      const MetricSet& set = slots[i].run->metrics;
      keep[i].assign(set.families().size(), true);
      for (std::size_t f = 0; f < set.families().size(); ++f, ++order) {
        if (dropped[order]) {
          keep[i][f] = false;
          Log(LogLevel::kWarn, "metric family dropped: name already used",
              {{"collector", collectors_[i]->name()},
               {"family", set.str(set.families()[f].name)}});
        }
      }
    }
  }

  for (std::size_t i = 0; i < n; ++i) {
    if (!report->collectors[i].success) continue;
    const MetricSet& set = slots[i].run->metrics;
    for (std::size_t f = 0; f < set.families().size(); ++f) {
      if (keep[i][f]) AppendFamilyText(*out, set, set.families()[f]);
    }
  }

  // The host's own metrics.
  MetricSet self;
  self.BeginFamily("sysmetrics_collector_success",
                   "1 if the collector succeeded in this scrape, else 0.",
                   MetricType::kGauge);
  for (const CollectorReport& r : report->collectors) {
    LabelView l{"collector", r.name};
    self.AddSample({}, {&l, 1}, r.success ? 1 : 0);
  }
  self.BeginFamily("sysmetrics_scrape_duration_seconds",
                   "Time the collector took in this scrape.",
                   MetricType::kGauge, "seconds");
  for (const CollectorReport& r : report->collectors) {
    LabelView l{"collector", r.name};
    self.AddSample({}, {&l, 1}, r.seconds);
  }
  self.BeginFamily("sysmetrics_collector_errors_total",
                   "Scrapes in which the collector failed, since start.",
                   MetricType::kCounter);
  for (const auto& c : collectors_) {
    LabelView l{"collector", c->name()};
    self.AddSample({}, {&l, 1}, static_cast<double>(c->errors()));
  }
  self.BeginFamily("sysmetrics_build_info",
                   "Build of the running exporter; always 1.",
                   MetricType::kGauge);
  {
    const std::string abi = std::to_string(SM_ABI_VERSION_MAJOR) + "." +
                            std::to_string(SM_ABI_VERSION_MINOR);
    const LabelView l[] = {{"version", build_.version},
                           {"compiler", build_.compiler},
                           {"abi", abi}};
    self.AddSample({}, l, 1);
  }
  self.BeginFamily("sysmetrics_plugin_info",
                   "One series per loaded plugin; always 1.",
                   MetricType::kGauge);
  for (const auto& c : collectors_) {
    const PluginInfo& p = c->info();
    const std::string abi =
        std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
    const LabelView l[] = {{"name", p.name},
                           {"version", p.version},
                           {"abi", abi},
                           {"file", p.file}};
    self.AddSample({}, l, 1);
  }
  report->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  self.BeginFamily("sysmetrics_scrape_collect_seconds",
                   "Time this whole scrape took to collect, all collectors.",
                   MetricType::kGauge, "seconds");
  self.AddSample({}, {}, report->seconds);
  self.Finish();
  AppendSetText(*out, self);

  if (LogEnabled(LogLevel::kDebug)) {
    std::string per;
    for (const CollectorReport& r : report->collectors) {
      if (!per.empty()) per.push_back(',');
      per.append(r.name).push_back('=');
      per.append(FormatSeconds(r.seconds));
    }
    Log(LogLevel::kDebug, "scrape collected",
        {{"seconds", FormatSeconds(report->seconds)}, {"collectors", per}});
  }
}

}  // namespace sysmetrics
