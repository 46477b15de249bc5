#include "meminfo.hpp"

#include <limits>

#include "proc_file.hpp"

namespace sysmetrics::memory {
namespace {

struct Key {
  std::string_view name;
  std::optional<std::uint64_t> MemInfo::*field;
};

constexpr Key kKeys[] = {
    {"MemTotal", &MemInfo::total},         {"MemFree", &MemInfo::free},
    {"MemAvailable", &MemInfo::available}, {"Buffers", &MemInfo::buffers},
    {"Cached", &MemInfo::cached},          {"SwapTotal", &MemInfo::swap_total},
    {"SwapFree", &MemInfo::swap_free},
};

}  // namespace

bool ParseMemInfo(std::string_view text, std::string_view file, MemInfo* out,
                  std::string* error) {
  *out = MemInfo{};
  bool ok = true;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return true;  // not a key line
    const std::string_view name = line.substr(0, colon);
    const Key* key = nullptr;
    for (const Key& k : kKeys) {
      if (k.name == name) key = &k;
    }
    if (key == nullptr) return true;
    std::string_view rest = line.substr(colon + 1);
    const std::string_view number = plugin::NextField(&rest);
    const std::string_view unit = plugin::NextField(&rest);
    const std::string_view extra = plugin::NextField(&rest);
    std::uint64_t kib = 0;
    auto fail = [&](const std::string& what) {
      *error = std::string(file) + ":" + std::to_string(line_no) + ": " +
               std::string(name) + " " + what;
      ok = false;
      return false;
    };
    if (number.empty()) return fail("has no value");
    if (!plugin::ParseU64(number, &kib)) {
      return fail("value '" + std::string(number) + "' is not a number");
    }
    if (unit != "kB" || !extra.empty()) {
      return fail("value must be '<number> kB'");
    }
    if (kib > std::numeric_limits<std::uint64_t>::max() / 1024) {
      return fail("value " + std::string(number) + " kB overflows bytes");
    }
    out->*(key->field) = kib * 1024;
    return true;
  });
  return ok;
}

}  // namespace sysmetrics::memory
