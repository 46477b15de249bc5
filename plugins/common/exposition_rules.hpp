// The exposition format's rules for names and text, shared by the host
// (core/metric_set, which checks every family and sample a plugin emits)
// and the textfile plugin (which checks the files it reads): one
// definition of a valid metric name, label name and UTF-8 text. Header-only
// and free of host code; pure functions, thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sysmetrics {
namespace detail {

// Character classes of metric and label names, by table: names are checked
// on every family and every label of every scrape.
inline constexpr std::uint8_t kStart = 1;  // [a-zA-Z_]
inline constexpr std::uint8_t kChar = 2;   // [a-zA-Z0-9_]
inline constexpr std::uint8_t kColon = 4;  // ':'
inline constexpr auto kNameClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alpha || c == '_') t[c] = kStart | kChar;
    if (c >= '0' && c <= '9') t[c] = kChar;
  }
  t[':'] = kColon;
  return t;
}();

inline std::uint8_t NameClass(char c) {
  return kNameClass[static_cast<unsigned char>(c)];
}

// Length of the leading run of ASCII bytes in s, eight at a time: help and
// label values are nearly always ASCII, and then need no sequence checks.
inline std::size_t AsciiPrefix(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, sizeof word);
    if ((word & 0x8080808080808080ULL) != 0) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
inline std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

}  // namespace detail

// [a-zA-Z_:][a-zA-Z0-9_:]*
inline bool IsValidMetricName(std::string_view name) {
  if (name.empty() ||
      (detail::NameClass(name[0]) & (detail::kStart | detail::kColon)) == 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (detail::NameClass(c) & (detail::kChar | detail::kColon)) != 0;
  });
}

// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
inline bool IsValidLabelName(std::string_view name) {
  if (name.empty() || (detail::NameClass(name[0]) & detail::kStart) == 0)
    return false;
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (detail::NameClass(c) & detail::kChar) != 0;
  });
}

// RFC 3629 UTF-8: no overlongs, surrogates or code points above U+10FFFF.
inline bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = detail::AsciiPrefix(text); i < text.size();) {
    const std::size_t n = detail::Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Appends text to out, replacing each invalid UTF-8 sequence with U+FFFD.
// Returns true if anything was replaced.
inline bool AppendRepairedUtf8(std::string& out, std::string_view text) {
  bool repaired = false;
  std::size_t run = 0;  // start of the current valid run
  std::size_t i = detail::AsciiPrefix(text);
  while (i < text.size()) {
    const std::size_t n = detail::Utf8SequenceLength(text, i);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(text.substr(run, i - run));
    out.append("\xEF\xBF\xBD");  // U+FFFD
    repaired = true;
    ++i;
    run = i;
  }
  out.append(text.substr(run));
  return repaired;
}

}  // namespace sysmetrics
