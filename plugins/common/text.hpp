// Small text helpers shared by the host (core/) and the built-in plugins:
// ASCII trimming and case folding, whole-field numbers, and errno messages.
// Header-only and free of host code, so a plugin compiles it in without linking
// anything of the host's. Pure functions; thread-safe.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace sysmetrics {

// s without the spaces and tabs at either end (HTTP's optional white
// space, the blanks between /proc fields).
inline std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// ASCII white space: space, \t, \n, \v, \f, \r (what Go's bytes.TrimSpace
// drops from a sysfs value).
inline bool IsAsciiSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// s without the ASCII white space at either end.
inline std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Whether a and b are equal but for the case of ASCII letters (header
// names, media types, content codings); other bytes must be equal.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The whole of text as a number of type T (an integer or floating-point
// type, as std::from_chars reads it: decimal, no leading spaces or '+', no
// sign for an unsigned T), or nothing when text is empty, has anything
// else in it, or is out of T's range.
template <class T>
std::optional<T> ParseWhole(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, value);
  if (text.empty() || r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return value;
}

// The message of errno value err ("No such file or directory"), from any
// thread.
inline std::string ErrnoText(int err) {
  return std::generic_category().message(err);
}

}  // namespace sysmetrics
