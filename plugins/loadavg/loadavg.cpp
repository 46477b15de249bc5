#include "loadavg.hpp"

#include <charconv>
#include <cmath>

#include "proc_file.hpp"

namespace sysmetrics::loadavg {
namespace {

// A whole field as a finite, non-negative decimal number.
bool ParseAverage(std::string_view field, double* out) {
  if (field.empty()) return false;
  const auto r = std::from_chars(field.data(), field.data() + field.size(),
                                 *out, std::chars_format::fixed);
  return r.ec == std::errc() && r.ptr == field.data() + field.size() &&
         std::isfinite(*out) && *out >= 0;
}

}  // namespace

bool ParseLoadAvg(std::string_view text, std::string_view file, LoadAvg* out,
                  std::string* error) {
  std::string_view line = text.substr(0, text.find('\n'));
  double v[3] = {};
  for (int i = 0; i < 3; ++i) {
    const std::string_view f = plugin::NextField(&line);
    if (f.empty()) {
      *error = std::string(file) + ":1: " + std::to_string(i) +
               " fields, want the 3 load averages";
      return false;
    }
    if (!ParseAverage(f, &v[i])) {
      *error = std::string(file) + ":1: field " + std::to_string(i + 1) + " '" +
               std::string(f) + "' is not a load average";
      return false;
    }
  }
  out->load1 = v[0];
  out->load5 = v[1];
  out->load15 = v[2];
  return true;
}

}  // namespace sysmetrics::loadavg
