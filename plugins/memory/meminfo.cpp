#include "meminfo.hpp"

#include <algorithm>
#include <limits>

#include "name_index.hpp"
#include "proc_file.hpp"

namespace sysmetrics::memory {
namespace {

// The kernel prints the keys in a fixed order, which kMeminfoFields
// follows: searching from the row after the last match finds most keys at
// the first compare.
std::uint16_t FindField(std::string_view key, std::size_t* hint) {
  for (std::size_t n = 0; n < kNumMeminfoFields; ++n) {
    std::size_t i = *hint + n;
    if (i >= kNumMeminfoFields) i -= kNumMeminfoFields;
    const std::string_view k = kMeminfoFields[i].key;
    if (k.size() == key.size() && k[0] == key[0] && k == key) {
      *hint = i + 1 == kNumMeminfoFields ? 0 : i + 1;
      return static_cast<std::uint16_t>(i);
    }
  }
  return kUnknownField;
}

constexpr bool IsKeyChar(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '(' || c == ')';
}

struct KeyChars {
  bool ok[256] = {};
  constexpr KeyChars() {
    for (int c = 0; c < 256; ++c)
      ok[c] = IsKeyChar(static_cast<unsigned char>(c));
  }
};
constexpr KeyChars kKeyChars;

bool KeyChar(char c) { return kKeyChars.ok[static_cast<unsigned char>(c)]; }

// The reasons a line is skipped, built out of line: the hot path only reads
// numbers.
[[gnu::cold, gnu::noinline]] std::string BadKey(std::string_view key) {
  if (key.empty()) return "no key before ':'";
  return "key '" + std::string(key) +
         "' has a character other than A-Z, a-z, 0-9, _, ( and )";
}

[[gnu::cold, gnu::noinline]] std::string BadUnit(std::string_view key,
                                                 std::string_view number,
                                                 std::string_view unit,
                                                 std::string_view want) {
  return std::string(key) + ": value " + std::string(number) +
         (unit.empty() ? " has no unit"
                       : " has unit '" + std::string(unit) + "'") +
         ", want " + std::string(want);
}

[[gnu::cold, gnu::noinline]] std::string BadValue(std::string_view key,
                                                  std::string_view number) {
  if (number.empty()) return std::string(key) + ": no value";
  return std::string(key) + ": value '" + std::string(number) +
         "' is not a number";
}

[[gnu::cold, gnu::noinline]] std::string Overflow(std::string_view key,
                                                  std::string_view number) {
  return std::string(key) + ": value " + std::string(number) +
         " kB overflows a 64-bit byte count";
}

[[gnu::cold, gnu::noinline]] std::string Repeat(std::string_view key,
                                                std::size_t first) {
  return std::string(key) + " repeats line " + std::to_string(first);
}

// Reads the value after "Key:" (in rest) into *l (l->field already set).
// On a value that cannot be read returns false and sets *why.
bool ReadValue(std::string_view rest, MemInfoLine* l, std::string* why) {
  const std::string_view number = plugin::NextField(&rest);
  const std::string_view unit = plugin::NextField(&rest);
  if (!plugin::ParseU64(number, &l->value)) {
    *why = BadValue(l->name, number);
    return false;
  }
  const bool known = l->field != kUnknownField;
  const bool want_kib = known && kMeminfoFields[l->field].kib;
  if (unit == "kB") {
    if (known && !want_kib) {
      *why = BadUnit(l->name, number, unit, "none");
      return false;
    }
    if (l->value > std::numeric_limits<std::uint64_t>::max() / 1024) {
      *why = Overflow(l->name, number);
      return false;
    }
    l->value *= 1024;
    l->kib = true;
    return true;
  }
  // A line cut short after its number (a truncated read) has no unit: for
  // a key known in kB that is an error, never a value 1,024 times too small.
  if (unit.empty() && !want_kib) return true;
  *why = BadUnit(l->name, number, unit,
                 want_kib ? "kB" : (known ? "none" : "kB or none"));
  return false;
}

}  // namespace

bool ParseMemInfo(std::string_view text, std::string_view file, MemInfo* out,
                  std::string* error) {
  plugin::ClearForReuse(&out->lines);
  out->skipped.clear();
  std::fill(std::begin(out->by_field), std::end(out->by_field), 0);
  plugin::ResetNameIndex(&out->name_index);
  std::size_t hint = 0;
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
    MemInfoLine l;
    l.name = line.substr(0, colon);
    l.line = line_no;
    if (l.name.empty() || !std::all_of(l.name.begin(), l.name.end(), KeyChar)) {
      out->skipped.push_back({line_no, BadKey(l.name)});
      return true;
    }
    l.field = FindField(l.name, &hint);
    if (ReadValue(line.substr(colon + 1), &l, &why)) {
      // Known keys are kept unique by by_field, the others by the name
      // index (which a meminfo without them never fills). The index is
      // never asked for a known name, so the known lines pushed beside it
      // need not be in it (a rehash adds them, harmlessly).
      const MemInfoLine* first = nullptr;
      if (l.field != kUnknownField) {
        first = out->Known(l.field);
        if (first == nullptr) {
          out->lines.push_back(l);
          out->by_field[l.field] =
              static_cast<std::uint32_t>(out->lines.size());
        }
      } else {
        first = plugin::AppendUnique(&out->name_index, &out->lines, l);
      }
      if (first == nullptr) return true;
      why = Repeat(l.name, first->line);
    }
    out->skipped.push_back({line_no, std::move(why)});
    why.clear();
    return true;
  });
  if (out->lines.empty()) {
    *error = std::string(file) + ": no 'Key: value' line could be read";
    return false;
  }
  return true;
}

std::string SnakeCase(std::string_view key) {
  std::string s;
  s.reserve(key.size() + 4);
  char prev = 0;
  for (const char c : key) {
    if (c == ')') continue;
    if (c == '(') {
      s += '_';
    } else if (c >= 'A' && c <= 'Z') {
      if (prev >= 'a' && prev <= 'z') s += '_';
      s += static_cast<char>(c - 'A' + 'a');
    } else {
      s += c;
    }
    prev = c;
  }
  return s;
}

std::string UnknownFamilyName(std::string_view key, bool kib) {
  std::string name = "sysmetrics_memory_" + SnakeCase(key);
  if (kib) {
    name += "_bytes";
    return name;
  }
  // Suffixes Prometheus gives counters, histograms and summaries: promtool
  // refuses them on a gauge.
  for (const char* suffix : {"_total", "_count", "_sum", "_bucket"}) {
    if (name.ends_with(suffix)) {
      name += "_value";
      break;
    }
  }
  return name;
}

}  // namespace sysmetrics::memory
