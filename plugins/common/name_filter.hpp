// NameFilter: an exclude pattern for device or interface names, with the
// regex work kept off the scrape path.
//
// The pattern is compiled once (ECMAScript syntax) at construction; each name
// is matched the first time it is seen and the verdict cached with a
// NUL-terminated copy of the name (usable directly as a label value). The
// cache is bounded: past kMaxNames distinct names it starts over, so churning
// names (containers' veth pairs) cannot grow it without end.
//
// Not thread-safe; one per plugin instance (collect is never concurrent with
// itself).
#pragma once

#include <cstddef>
#include <functional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sysmetrics::plugin {

class NameFilter {
 public:
  static constexpr std::size_t kMaxNames = 4096;

  // Throws std::regex_error (with what()) for an invalid pattern. An empty
  // pattern excludes nothing.
  explicit NameFilter(const std::string& pattern);

  // The cached name if it is included, nullptr if the pattern excludes it.
  const std::string* Include(std::string_view name);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s);
    }
  };
  bool empty_;
  std::regex pattern_;
  std::unordered_map<std::string, bool, Hash, std::equal_to<>> seen_;
};

}  // namespace sysmetrics::plugin
