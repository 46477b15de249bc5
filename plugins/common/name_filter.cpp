#include "name_filter.hpp"

namespace sysmetrics::plugin {

NameFilter::NameFilter(const std::string& pattern)
    : empty_(pattern.empty()),
      pattern_(pattern.empty() ? "x" : pattern, std::regex::ECMAScript) {}

const std::string* NameFilter::Include(std::string_view name) {
  auto it = seen_.find(name);
  if (it == seen_.end()) {
    if (seen_.size() >= kMaxNames) seen_.clear();
    std::string key(name);
    const bool excluded = !empty_ && std::regex_search(key, pattern_);
    it = seen_.emplace(std::move(key), excluded).first;
  }
  return it->second ? nullptr : &it->first;
}

}  // namespace sysmetrics::plugin
