#include "scrape/name_ownership.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace sysmetrics {
namespace {

constexpr std::string_view kPrefix = "sysmetrics_";

// Whether family is sysmetrics_NAME or sysmetrics_NAME_*.
bool InNamespace(std::string_view family, std::string_view name) {
  if (!family.starts_with(kPrefix)) return false;
  const std::string_view rest = family.substr(kPrefix.size());
  return rest.starts_with(name) &&
         (rest.size() == name.size() || rest[name.size()] == '_');
}

// The host serves the families of kHostFamilies, and keeps the namespaces
// its per-collector and per-scrape families live in for itself.
bool IsHostName(std::string_view family) {
  return InNamespace(family, "collector") || InNamespace(family, "scrape") ||
         std::find(std::begin(kHostFamilies), std::end(kHostFamilies),
                   family) != std::end(kHostFamilies);
}

std::vector<std::string> HostFamilyNames() {
  return {std::begin(kHostFamilies), std::end(kHostFamilies)};
}

}  // namespace

MergeRank RankOf(std::string_view collector, bool shipped) {
  if (collector == "textfile") return MergeRank::kTextfile;
  return shipped ? MergeRank::kShipped : MergeRank::kThirdParty;
}

ReservedNames::ReservedNames(std::vector<std::string> names)
    : names_(std::move(names)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

bool ReservedNames::Contains(std::string_view name) const {
  const auto it = std::lower_bound(
      names_.begin(), names_.end(), name,
      [](const std::string& a, std::string_view b) { return a < b; });
  return it != names_.end() && *it == name;
}

ReservedNameBoard::ReservedNameBoard() : current_(HostReservedNames()) {}

std::shared_ptr<const ReservedNames> ReservedNameBoard::Snapshot() const {
  MutexLock lock(mu_);
  return current_;
}

void ReservedNameBoard::Add(std::span<const std::string> names) {
  MutexLock lock(mu_);
  const ReservedNames& now = *current_;
  if (std::all_of(names.begin(), names.end(),
                  [&](const std::string& n) { return now.Contains(n); })) {
    return;
  }
  std::vector<std::string> all = current_->names();
  all.insert(all.end(), names.begin(), names.end());
  current_ = std::make_shared<const ReservedNames>(std::move(all));
}

const std::shared_ptr<const ReservedNames>& HostReservedNames() {
  static const auto kHost =
      std::make_shared<const ReservedNames>(HostFamilyNames());
  return kHost;
}

std::vector<std::string> LongerCollectorNames(
    std::string_view collector, std::span<const std::string> enabled) {
  std::vector<std::string> longer;
  for (const std::string& name : enabled) {
    if (name.size() > collector.size() + 1 && name.starts_with(collector) &&
        name[collector.size()] == '_') {
      longer.push_back(name);
    }
  }
  return longer;
}

FamilyOwner CheckFamilyOwner(std::string_view family,
                             std::string_view collector,
                             std::span<const std::string> longer,
                             const ReservedNames& reserved) {
  if (IsHostName(family)) return {OwnerVerdict::kHost, {}};
  if (reserved.Contains(family)) return {OwnerVerdict::kReserved, {}};
  if (!InNamespace(family, collector)) return {OwnerVerdict::kOutside, {}};
  FamilyOwner owner;
  for (const std::string& name : longer) {
    if (name.size() > owner.owner.size() && InNamespace(family, name)) {
      owner = {OwnerVerdict::kLonger, name};
    }
  }
  return owner;
}

std::string DescribeRefusal(const FamilyOwner& owner, std::string_view family,
                            std::string_view collector) {
  const std::string f = "'" + std::string(family) + "'";
  switch (owner.verdict) {
    case OwnerVerdict::kOwned:
      break;
    case OwnerVerdict::kHost:
      return f + " is a name of the exporter's own metrics";
    case OwnerVerdict::kReserved:
      return f + " is served by a plugin shipped with sysmetrics";
    case OwnerVerdict::kOutside:
      return f + " is outside the collector's namespace (sysmetrics_" +
             std::string(collector) + " and sysmetrics_" +
             std::string(collector) + "_*)";
    case OwnerVerdict::kLonger:
      return f + " belongs to the enabled collector '" +
             std::string(owner.owner) +
             "', the longest collector name it matches";
  }
  return f + " is the collector's own";
}

}  // namespace sysmetrics
