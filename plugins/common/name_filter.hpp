// NameFilter: an exclude pattern for device or interface names (or, in
// kKeepMatching mode, a pattern that selects names, as vmstat's fields), with
// the regex work kept off the scrape path.
//
// The pattern is compiled once (ECMAScript syntax, by the host: a
// sysmetrics::Regex) at construction; each name is searched the first time
// it is seen and the verdict
// cached with a
// NUL-terminated copy of the name, usable directly as a label value. Use it
// one collect at a time:
//
//   filter.BeginCollect();
//   for (each name) if (const char* label = filter.Include(name)) ...;
//
// A pointer Include returns stays valid until the next BeginCollect: the
// cache is only ever pruned there, never while a collect holds its names.
// Pruning keeps the cache bounded under name churn (containers' veth pairs):
// once it holds more than kMaxNames names, BeginCollect drops every name
// the previous collect did not look up. The names in use are never dropped,
// so a host with more than kMaxNames devices keeps them all cached.
//
// Not thread-safe; one per plugin instance (collect is never concurrent with
// itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sysmetrics/plugin.hpp>
#include <unordered_map>

namespace sysmetrics::plugin {

class NameFilter {
 public:
  static constexpr std::size_t kMaxNames = 4096;

  // kDropMatching: a name the pattern matches is excluded (an empty pattern
  // excludes nothing). kKeepMatching: only names it matches are included (an
  // empty pattern, which a search matches everywhere, includes all).
  enum class Mode { kDropMatching, kKeepMatching };

  // Throws sysmetrics::Error (SM_ERR_CONFIG, the engine's reason) for an
  // invalid pattern. host compiles it and must outlive the filter.
  NameFilter(const Host& host, const std::string& pattern,
             Mode mode = Mode::kDropMatching);

  // Starts a collect: may prune names the previous collect did not use,
  // which invalidates every pointer Include returned before.
  void BeginCollect();

  // The cached name (NUL-terminated) if it is included, nullptr if the
  // pattern and mode exclude it. Valid until the next BeginCollect.
  const char* Include(std::string_view name);

  // Names cached now (for tests).
  std::size_t cached() const { return seen_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct Verdict {
    bool excluded = false;
    std::uint64_t last_used = 0;  // the collect that last looked it up
  };
  Mode mode_;
  std::optional<Regex> pattern_;  // none for the empty pattern
  std::uint64_t collect_ = 0;
  std::unordered_map<std::string, Verdict, Hash, std::equal_to<>> seen_;
};

}  // namespace sysmetrics::plugin
