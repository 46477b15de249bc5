#include "name_filter.hpp"

namespace sysmetrics::plugin {

NameFilter::NameFilter(const Host& host, const std::string& pattern, Mode mode)
    : mode_(mode) {
  if (!pattern.empty()) pattern_.emplace(host, pattern);
}

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
    const bool empty = !pattern_.has_value();
    const bool matches = empty || pattern_->Search(key);
    const bool excluded =
        mode_ == Mode::kKeepMatching ? !matches : !empty && matches;
    it = seen_.emplace(std::move(key), Verdict{excluded, collect_}).first;
  }
  it->second.last_used = collect_;
  return it->second.excluded ? nullptr : it->first.c_str();
}

}  // namespace sysmetrics::plugin
