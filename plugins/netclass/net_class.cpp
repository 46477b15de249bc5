#include "net_class.hpp"

#include <limits>

namespace sysmetrics::netclass {
namespace {

char Lower(char c) { return static_cast<char>(c | 0x20); }

// The digit value of c, or 99 when c is no digit in any base up to 16.
int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const char l = Lower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return 99;
}

// Go's strconv.underscoreOK: each '_' must sit between two digits, or
// between a base prefix and a digit.
bool UnderscoreOk(std::string_view s) {
  char saw = '^';
  std::size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && DigitValue(c) < 16)) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

}  // namespace

bool ParseInt(std::string_view value, std::int64_t* out) {
  const std::string_view whole = value;
  if (value.empty()) return false;
  bool negative = false;
  if (value[0] == '+' || value[0] == '-') {
    negative = value[0] == '-';
    value.remove_prefix(1);
  }
  if (value.empty()) return false;
  unsigned base = 10;
  if (value[0] == '0') {
    const char p = value.size() >= 3 ? Lower(value[1]) : '\0';
    if (p == 'b' || p == 'o' || p == 'x') {
      base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
      value.remove_prefix(2);
    } else {
      base = 8;  // "0" alone is 0; "017" is 15
      value.remove_prefix(1);
    }
  }
  // The magnitude may reach 2^63 for the most negative value.
  constexpr std::uint64_t kLimit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
  std::uint64_t n = 0;
  bool underscores = false;
  for (const char c : value) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    const int d = DigitValue(c);
    if (d >= static_cast<int>(base)) return false;
    if (n > (kLimit - static_cast<unsigned>(d)) / base) return false;
    n = n * base + static_cast<unsigned>(d);
  }
  if (underscores && !UnderscoreOk(whole)) return false;
  if (!negative && n == kLimit) return false;
  *out = negative ? static_cast<std::int64_t>(0 - n)
                  : static_cast<std::int64_t>(n);
  return true;
}

InfoLabels MakeInfoLabels(const char* interface,
                          const std::string (&text)[kInfoAttrs]) {
  InfoLabels l{};
  l.name[0] = "interface";
  l.value[0] = interface;
  for (int i = 0; i < kInfoAttrs; ++i) {
    l.name[i + 1] = kInfoLabels[i];
    l.value[i + 1] = text[i].c_str();
  }
  return l;
}

}  // namespace sysmetrics::netclass
