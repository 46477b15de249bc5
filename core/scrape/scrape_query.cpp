#include "scrape/scrape_query.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>

namespace sysmetrics {
namespace {

std::string ValidNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out.append(", ");
    out.append(n);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in) {
  // Poco decodes '+' as a space only after a '?', and these are the pieces
  // of a query without it; a literal '+' arrives as %2B, so replacing first
  // is exact.
  std::string text(in);
  std::replace(text.begin(), text.end(), '+', ' ');
  std::string out;
  try {
    Poco::URI::decode(text, out);
  } catch (const Poco::Exception&) {
    return Status::Error("malformed percent-encoding");
  }
  return out;
}

Result<std::vector<bool>> SelectCollectors(
    std::string_view query, const std::vector<std::string>& names,
    const std::vector<UnavailableCollector>& unavailable) {
  std::vector<bool> collect(names.size(), false);
  std::vector<bool> exclude(names.size(), false);
  bool any_collect = false;
  bool any_exclude = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const Result<std::string> k = PercentDecode(pair.substr(0, eq));
    if (!k.ok()) return Status::Error(k.error() + " in the query");
    const Result<std::string> v =
        PercentDecode(eq == std::string_view::npos ? std::string_view()
                                                   : pair.substr(eq + 1));
    if (!v.ok()) return Status::Error(v.error() + " in the query");
    const std::string& key = k.value();
    const std::string& value = v.value();
    const bool is_collect = key == "collect[]";
    if (!is_collect && key != "exclude[]") continue;  // not ours
    const auto it = std::find(names.begin(), names.end(), value);
    const auto off = std::find_if(
        unavailable.begin(), unavailable.end(),
        [&](const UnavailableCollector& u) { return u.name == value; });
    if (it == names.end() && off != unavailable.end()) {
      if (!is_collect) continue;  // excluding what does not run
      return Status::Error("collector '" + value + "' in collect[] " +
                           off->why);
    }
    if (it == names.end()) {
      const bool printable =
          std::all_of(value.begin(), value.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u >= 0x20 && u != 0x7f;
          });
      std::string what = value.empty() ? "empty collector name"
                         : printable   ? "unknown collector '" + value + "'"
                                       : "collector name with control bytes";
      return Status::Error(what + " in " + key +
                           "; valid names: " + ValidNames(names));
    }
    const auto i = static_cast<std::size_t>(it - names.begin());
    if (is_collect) {
      collect[i] = true;
      any_collect = true;
    } else {
      exclude[i] = true;
      any_exclude = true;
    }
  }
  if (any_collect && any_exclude) {
    return Status::Error(
        "collect[] and exclude[] cannot be combined; use one of them");
  }
  if (any_collect) return collect;
  if (any_exclude) {
    for (std::size_t i = 0; i < exclude.size(); ++i) exclude[i] = !exclude[i];
    return exclude;
  }
  return std::vector<bool>();
}

}  // namespace sysmetrics
