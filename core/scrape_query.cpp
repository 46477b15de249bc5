#include "scrape_query.hpp"

#include <algorithm>

namespace sysmetrics {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ValidNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out.append(", ");
    out.append(n);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c != '%') {
      out->push_back(c);
    } else {
      const int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return true;
}

Result<std::vector<bool>> SelectCollectors(
    std::string_view query, const std::vector<std::string>& names) {
  std::vector<bool> collect(names.size(), false);
  std::vector<bool> exclude(names.size(), false);
  bool any_collect = false;
  bool any_exclude = false;
  std::string key;
  std::string value;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (!PercentDecode(pair.substr(0, eq), &key) ||
        !PercentDecode(eq == std::string_view::npos ? std::string_view()
                                                    : pair.substr(eq + 1),
                       &value)) {
      return Status::Error("malformed percent-encoding in the query");
    }
    const bool is_collect = key == "collect[]";
    if (!is_collect && key != "exclude[]") continue;  // not ours
    const auto it = std::find(names.begin(), names.end(), value);
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
