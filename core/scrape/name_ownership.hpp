// Name ownership: which collector may serve a metric family name.
//
// The host owns its own families (kHostFamilies, and every name under
// sysmetrics_collector_ and sysmetrics_scrape_). A plugin shipped with
// sysmetrics (PluginInfo::shipped) owns the names it emits. A third-party
// plugin NAME owns only its namespace, sysmetrics_NAME and sysmetrics_NAME_*,
// and within it only what no other enabled collector owns more precisely:
// when the namespace of an enabled collector whose name extends NAME
// ("NAME_x") also matches, the longest matching name owns the family. A
// third-party family is also refused when a shipped collector has served it
// (ReservedNames). The answer depends only on which collectors are enabled
// and what the shipped ones served, never on file order or reload timing.
//
// The check (CheckFamilyOwner) is a pure function of plain data, so it can
// run wherever begin_family runs, in the exporter or a helper process.
//
// Thread-safety: ReservedNames is immutable; ReservedNameBoard is
// thread-safe; the free functions keep no state.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/thread_annotations.hpp"

namespace sysmetrics {

// The families the host serves itself: the one list of their names, for
// the names the host reserves and for the code that emits them, which
// indexes it with HostFamily.
enum HostFamily {
  kCollectorSuccess,
  kScrapeDuration,
  kCollectorErrors,
  kCollectorSkippedLines,
  kCollectorRefusedFamilies,
  kCollectorRestarts,
  kBuildInfo,
  kPluginInfo,
  kScrapeCollectSeconds,
  // The exporter process' own (process_metrics.hpp).
  kProcessCpuSeconds,
  kProcessResidentMemory,
  kProcessVirtualMemory,
  kProcessOpenFds,
  kProcessMaxFds,
  kProcessStartTime,
  kNumHostFamilies
};
inline constexpr std::string_view kHostFamilies[kNumHostFamilies] = {
    "sysmetrics_collector_success",
    "sysmetrics_scrape_duration_seconds",
    "sysmetrics_collector_errors_total",
    "sysmetrics_collector_skipped_lines_total",
    "sysmetrics_collector_refused_families_total",
    "sysmetrics_collector_restarts_total",
    "sysmetrics_build_info",
    "sysmetrics_plugin_info",
    "sysmetrics_scrape_collect_seconds",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
};

// The order in which a collector's families are merged into a scrape: the
// host first, then shipped plugins, then third-party plugins, then the
// textfile collector (files written by other programs never displace a
// plugin's family). Within a rank, collectors keep their given order.
enum class MergeRank { kShipped = 0, kThirdParty = 1, kTextfile = 2 };

MergeRank RankOf(std::string_view collector, bool shipped);

// A sorted set of family names. Immutable.
class ReservedNames {
 public:
  // Sorts names and drops repeats.
  explicit ReservedNames(std::vector<std::string> names);
  bool Contains(std::string_view name) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

// The names reserved against third-party plugins for one exporter's
// collectors: the host's families and the families its shipped collectors
// (rank kShipped) have served. Grows, never shrinks. Thread-safe.
class ReservedNameBoard {
 public:
  ReservedNameBoard();
  // The current set; never null. One lock and a reference count.
  std::shared_ptr<const ReservedNames> Snapshot() const;
  // Adds names (served by a shipped collector) to the set.
  void Add(std::span<const std::string> names);

 private:
  mutable Mutex mu_;
  std::shared_ptr<const ReservedNames> current_ GUARDED_BY(mu_);
};

// The host's families alone, for a collector outside any exporter.
const std::shared_ptr<const ReservedNames>& HostReservedNames();

// The enabled collector names (from enabled) that extend collector's own
// name: they start with collector + "_". Their namespaces lie inside
// collector's, and take precedence there.
std::vector<std::string> LongerCollectorNames(
    std::string_view collector, std::span<const std::string> enabled);

enum class OwnerVerdict {
  kOwned,     // the family is the collector's
  kHost,      // the host's own name
  kReserved,  // a shipped collector has served it
  kOutside,   // outside the collector's namespace
  kLonger,    // inside the namespace of a collector with a longer name
};

struct FamilyOwner {
  OwnerVerdict verdict = OwnerVerdict::kOwned;
  std::string_view owner;  // kLonger: the collector that owns it
};

// Decides whether the third-party collector named collector may serve the
// family name family (a valid metric name). longer: the enabled collector
// names that extend collector's (LongerCollectorNames); reserved: the names
// reserved against third parties. Returns kOwned or why not; owner views
// an element of longer. Pure: no locks, no allocation.
FamilyOwner CheckFamilyOwner(std::string_view family,
                             std::string_view collector,
                             std::span<const std::string> longer,
                             const ReservedNames& reserved);

// One line saying why collector may not serve family (for the log).
std::string DescribeRefusal(const FamilyOwner& owner, std::string_view family,
                            std::string_view collector);

}  // namespace sysmetrics
