#include "name_filter.hpp"

namespace sysmetrics::plugin {

NameFilter::NameFilter(const std::string& pattern, Mode mode)
    : empty_(pattern.empty()),
      mode_(mode),
      pattern_(pattern.empty() ? "x" : pattern, std::regex::ECMAScript) {}

void NameFilter::BeginCollect() {
  if (seen_.size() > kMaxNames) {
    // Keep what the previous collect used: the devices that exist now.
    std::erase_if(seen_, [this](const auto& entry) {
      return entry.second.last_used != collect_;
    });
  }
  ++collect_;
}

const char* NameFilter::Include(std::string_view name) {
  auto it = seen_.find(name);
  if (it == seen_.end()) {
    // Inserting never moves another entry's key (node-based map), so the
    // pointers handed out earlier in this collect stay valid.
    std::string key(name);
    const bool matches = empty_ || std::regex_search(key, pattern_);
    const bool excluded =
        mode_ == Mode::kKeepMatching ? !matches : !empty_ && matches;
    it = seen_.emplace(std::move(key), Verdict{excluded, collect_}).first;
  }
  it->second.last_used = collect_;
  return it->second.excluded ? nullptr : it->first.c_str();
}

}  // namespace sysmetrics::plugin
