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
constexpr std::size_t kNumKeys = std::size(kKeys);

std::string NoneRead(std::string_view file) {
  std::string s = std::string(file) + ": none of the keys ";
  for (std::size_t i = 0; i < kNumKeys; ++i) {
    if (i != 0) s += ", ";
    s += kKeys[i].name;
  }
  return s + " could be read";
}

// Reads the value after "Key:" (in rest) as bytes. On a value that cannot
// be read returns false and sets *why.
bool ReadKib(std::string_view name, std::string_view rest, std::uint64_t* bytes,
             std::string* why) {
  const std::string_view number = plugin::NextField(&rest);
  // Fields after the unit are ignored: a later kernel may annotate a value.
  const std::string_view unit = plugin::NextField(&rest);
  std::uint64_t kib = 0;
  if (number.empty()) {
    *why = std::string(name) + ": no value";
  } else if (!plugin::ParseU64(number, &kib)) {
    *why = std::string(name) + ": value '" + std::string(number) +
           "' is not a number";
  } else if (unit != "kB") {
    *why = std::string(name) + ": value " + std::string(number) +
           (unit.empty() ? " has no unit"
                         : " has unit '" + std::string(unit) + "'") +
           ", want kB";
  } else if (kib > std::numeric_limits<std::uint64_t>::max() / 1024) {
    *why = std::string(name) + ": value " + std::string(number) +
           " kB overflows a 64-bit byte count";
  } else {
    *bytes = kib * 1024;
    return true;
  }
  return false;
}

}  // namespace

bool ParseMemInfo(std::string_view text, std::string_view file, MemInfo* out,
                  std::string* error) {
  for (const Key& k : kKeys) (out->*(k.field)).reset();
  out->skipped.clear();
  std::size_t read_on[kNumKeys] = {};  // line each key was read from
  bool any = false;
  std::string why;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (line.find_first_not_of(" \t") == std::string_view::npos) {
        return true;  // blank
      }
      out->skipped.push_back({line_no, "no ':' after a key"});
      return true;
    }
    const std::string_view name = line.substr(0, colon);
    std::size_t k = 0;
    while (k < kNumKeys && kKeys[k].name != name) ++k;
    if (k == kNumKeys) return true;  // a key this parser does not read
    std::uint64_t bytes = 0;
    if (ReadKib(name, line.substr(colon + 1), &bytes, &why)) {
      if (read_on[k] == 0) {
        out->*(kKeys[k].field) = bytes;
        read_on[k] = line_no;
        any = true;
        return true;
      }
      why = std::string(name) + " repeats line " + std::to_string(read_on[k]);
    }
    out->skipped.push_back({line_no, std::move(why)});
    why.clear();
    return true;
  });
  if (!any) {
    *error = NoneRead(file);
    return false;
  }
  return true;
}

}  // namespace sysmetrics::memory
