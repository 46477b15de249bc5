// The input of fuzz_serializer: bytes read front to back as a program of
// plugin calls (begin_family, emit_sample, end of a collect).
//
// Shared by the fuzz target, which decodes it, and the seed generator,
// which encodes known expositions into it, so a seed means what its source
// says. Every byte string is a valid program: a read past the end yields
// zeros and empty strings, so no input is wasted on a format error.
//
//   program  = config op*
//   config   = byte (sample limit: 0 none, else the byte)  byte (log: bit 0
//              JSON, bit 1 debug level)
//   op       = byte % kOpCount, then
//     kOpFamily:  flags name help type-byte unit
//     kOpSample:  flags suffix count-byte (label-name label-value)* value
//     kOpCollect: nothing (ends the collect: the set is finished, checked
//                 and cleared for the next one)
//   string   = byte t; t < kDictBase: t literal bytes follow; else entry
//              (t - kDictBase) of the dictionary for that kind of string
//   value    = byte v; a special value by v % 16, or the 8 bytes that
//              follow as a double's bit pattern, little-endian
//              (v % 16 >= kRawValue)
//
// Dictionaries hold names that collide (a summary "a" and a gauge "a_sum")
// and text that needs escaping, which random bytes almost never produce.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

namespace sysmetrics::fuzz {

enum Op : std::uint8_t { kOpFamily = 0, kOpSample = 1, kOpCollect = 2 };
inline constexpr std::uint8_t kOpCount = 3;

// Bits of an op's flags byte: ways a plugin can hand the host a malformed
// call, each of which the host must refuse without touching the rest.
inline constexpr std::uint8_t kFlagNullHelp = 1 << 0;
inline constexpr std::uint8_t kFlagNullUnit = 1 << 1;
inline constexpr std::uint8_t kFlagShortStruct = 1 << 2;
inline constexpr std::uint8_t kFlagNullName = 1 << 3;  // family or label
inline constexpr std::uint8_t kFlagNullSuffix = 1 << 4;
inline constexpr std::uint8_t kFlagNullLabels = 1 << 5;
inline constexpr std::uint8_t kFlagNullValue = 1 << 6;
// Malformed calls are rare in real plugins: only flags bytes with this bit
// set may carry kFlagShortStruct, kFlagNullName, kFlagNullLabels or
// kFlagNullValue, so most random inputs exercise well-formed calls.
inline constexpr std::uint8_t kFlagMalformed = 1 << 7;

// Labels per sample go up to past the 16 the host keeps on the stack.
inline constexpr std::uint8_t kMaxLabels = 20;

inline constexpr std::uint8_t kDictBase = 0xC0;

inline constexpr std::array<std::string_view, 18> kNameDict = {
    "a",
    "a_sum",
    "a_count",
    "a_bucket",
    "b",
    "b_total",
    "x_seconds",
    "x_seconds_total",
    ":",
    "_",
    "a:b",
    "0a",
    "",
    "a-b",
    "\xc3\xa9",
    "a_sum_count",
    "sysmetrics_build_info",
    "a b"};
inline constexpr std::array<std::string_view, 12> kTextDict = {
    "",         "help text",    "back\\slash", "new\nline",
    "quote\"d", "\xff\xfe",     "end\\",       "\\n",
    "\xc3\xa9", "\xed\xa0\x80", "\r\t\x7f",    "\xf0\x9f\x98\x80"};
inline constexpr std::array<std::string_view, 7> kUnitDict = {
    "", "seconds", "bytes", "total", "0s", "a", "_seconds"};
inline constexpr std::array<std::string_view, 7> kSuffixDict = {
    "", "_bucket", "_sum", "_count", "_total", "x", "_Sum"};
inline constexpr std::array<std::string_view, 12> kLabelNameDict = {
    "le",       "quantile", "a", "b", "c",   "_x",
    "__name__", "__x",      "0", "",  "a b", "a:b"};
inline constexpr std::array<std::string_view, 14> kLabelValueDict = {
    "",           "a",       "+Inf", "0.5",      "\\",       "\"",
    "\n",         "\\n",     "\xff", "\xc0\x80", "\xc3\xa9", "\xf4\x90\x80\x80",
    "a\"b\\c\nd", "\xe2\x82"};

// Special values by selector; selectors from kRawValue up read 8 bytes.
inline constexpr std::uint8_t kRawValue = 14;
inline double SpecialValue(std::uint8_t selector) {
  using L = std::numeric_limits<double>;
  switch (selector % 16) {
    case 0:
      return L::quiet_NaN();
    case 1:
      return -L::quiet_NaN();
    case 2:
      return L::infinity();
    case 3:
      return -L::infinity();
    case 4:
      return 0.0;
    case 5:
      return -0.0;
    case 6:
      return L::max();
    case 7:
      return L::lowest();
    case 8:
      return L::denorm_min();
    case 9:
      return 1e21;
    case 10:
      return 1e-7;
    case 11:
      return 0.1;
    case 12:
      return 18446744073709551615.0;
    default:
      return -1.5;
  }
}

class InputReader {
 public:
  explicit InputReader(std::span<const std::uint8_t> data) : data_(data) {}

  bool empty() const { return pos_ >= data_.size(); }

  std::uint8_t Byte() { return empty() ? 0 : data_[pos_++]; }

  // A string as the plugin API sees it: a C string, so it ends at the first
  // NUL byte.
  std::string String(std::span<const std::string_view> dict) {
    const std::uint8_t tag = Byte();
    std::string s;
    if (tag >= kDictBase) {
      s = dict[(tag - kDictBase) % dict.size()];
    } else {
      const std::size_t n = std::min<std::size_t>(tag, data_.size() - pos_);
      s.assign(reinterpret_cast<const char*>(data_.data() + pos_), n);
      pos_ += n;
    }
    if (const std::size_t nul = s.find('\0'); nul != std::string::npos) {
      s.resize(nul);
    }
    return s;
  }

  double Value() {
    const std::uint8_t selector = Byte();
    if (selector % 16 < kRawValue) return SpecialValue(selector);
    std::uint64_t bits = 0;  // little-endian, whatever the host's order
    for (int i = 0; i < 8; ++i) {
      bits |= static_cast<std::uint64_t>(Byte()) << (8 * i);
    }
    return std::bit_cast<double>(bits);
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

class InputWriter {
 public:
  void Byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }

  // Text from a known entry of dict when there is one (shorter, and the
  // fuzzer then mutates the tag into the other entries), else a literal;
  // literals longer than a tag allows are cut.
  void String(std::string_view s, std::span<const std::string_view> dict) {
    for (std::size_t i = 0; i < dict.size(); ++i) {
      if (dict[i] == s) {
        Byte(static_cast<std::uint8_t>(kDictBase + i));
        return;
      }
    }
    const std::size_t n = std::min<std::size_t>(s.size(), kDictBase - 1);
    Byte(static_cast<std::uint8_t>(n));
    out_.append(s.substr(0, n));
  }

  void Value(double v) {
    for (std::uint8_t sel = 0; sel < kRawValue; ++sel) {
      if (std::bit_cast<std::uint64_t>(SpecialValue(sel)) ==
          std::bit_cast<std::uint64_t>(v)) {
        Byte(sel);
        return;
      }
    }
    Byte(kRawValue);
    const auto bits = std::bit_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) {
      Byte(static_cast<std::uint8_t>(bits >> (8 * i)));
    }
  }

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

}  // namespace sysmetrics::fuzz
