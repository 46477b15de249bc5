#include "udev.hpp"

#include <charconv>

#include "proc_file.hpp"

namespace sysmetrics::disk {

void ParseUdevData(std::string_view text, UdevProperties* out) {
  for (int k = 0; k < kUdevKeys; ++k) {
    out->value[k].clear();
    out->line[k] = 0;
  }
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.starts_with("E:")) return true;
    line.remove_prefix(2);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return true;
    const std::string_view key = line.substr(0, eq);
    for (int k = 0; k < kUdevKeys; ++k) {
      if (key == kUdevKeyNames[k]) {
        out->value[k].assign(line.substr(eq + 1));
        out->line[k] = line_no;
        break;
      }
    }
    return true;
  });
}

bool ParseUdevNumber(std::string_view value, double* out) {
  if (value.empty()) return false;
  double v = 0;
  const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
  if (r.ec != std::errc() || r.ptr != value.data() + value.size()) {
    return false;
  }
  *out = v;
  return true;
}

}  // namespace sysmetrics::disk
