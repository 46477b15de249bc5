// Parser for <procfs>/meminfo, the kernel's memory usage summary, and the
// metric names its keys are exported under.
//
// Format (Documentation/filesystems/proc.rst, "meminfo"): one "Key: value"
// per line, the value in kibibytes followed by "kB" for sizes
// ("MemTotal:       16314304 kB") and bare for counts
// ("HugePages_Total:       0"). Keys come and go with kernel versions and
// configuration (MemAvailable appeared in 3.14, Zswap in 5.19), so every
// line is read, whether meminfo_fields.hpp knows its key or not.
//
// Pure functions of their input; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meminfo_fields.hpp"
#include "proc_file.hpp"

namespace sysmetrics::memory {

// No row of kMeminfoFields.
inline constexpr std::uint16_t kUnknownField = 0xffff;

// One line read.
struct MemInfoLine {
  std::string_view name;    // the key, before the ':'; a view into the text
  std::uint64_t value = 0;  // in bytes (kB x 1024) when kib, else as printed
  bool kib = false;         // the value was printed in kB
  std::uint16_t field = kUnknownField;  // its row of kMeminfoFields
  std::size_t line = 0;                 // 1-based
};

struct MemInfo {
  std::vector<MemInfoLine> lines;            // in file order
  std::vector<plugin::SkippedLine> skipped;  // in line order
  // For each row of kMeminfoFields, 1 + its index in lines, or 0 when the
  // key was not read.
  std::uint32_t by_field[kNumMeminfoFields] = {};
  std::vector<std::uint32_t> name_index;  // scratch (name_index.hpp)

  // The line read for row `field` of kMeminfoFields, or nullptr.
  const MemInfoLine* Known(std::size_t field) const {
    return by_field[field] == 0 ? nullptr : &lines[by_field[field] - 1];
  }
};

// Parses text (the file's content); file names the file in the error. The
// result holds views into text: text must outlive it.
//
// A line's key is the text before its first ':', taken as it is, and the
// value is "<decimal uint64>" followed by "kB" or by nothing; fields after
// the unit are ignored (a later kernel may annotate a value). A key
// kMeminfoFields knows must carry the unit its row says (kB when kib, none
// otherwise); any other key may carry either, and is exported as printed.
// Blank lines are ignored. These lines are skipped, and recorded in
// out->skipped with their 1-based line number and a reason that names the
// key but not the file or line ("MemFree: value 'abc' is not a number"):
// a non-blank line with no ':'; a key that is empty or holds a character
// other than A-Z, a-z, 0-9, '_', '(' and ')' (it could not name a metric);
// no value, a value that is not a number, a unit that is not one allowed
// above, a kB value too large to count in bytes as a uint64; a key already
// read from an earlier line (the earlier value stays).
//
// Returns true when at least one line was read: out->lines holds them and
// out->by_field indexes the known ones. Otherwise (an empty file, every
// line skipped) returns false and sets *error to "<file>: no 'Key: value'
// line could be read"; out->lines is then empty and out->skipped still
// lists the skipped lines. Both vectors are cleared first and keep their
// capacity.
bool ParseMemInfo(std::string_view text, std::string_view file, MemInfo* out,
                  std::string* error);

// The naming rule for a key: "(x)" becomes "_x", an '_' goes before an
// upper-case letter that follows a lower-case one, and everything is
// lower-cased: "Active(anon)" -> "active_anon", "DirectMap2M" ->
// "direct_map2m", "NFS_Unstable" -> "nfs_unstable". key must be one
// ParseMemInfo accepts (the result is then a valid metric name tail).
std::string SnakeCase(std::string_view key);

// The family a key kMeminfoFields does not know is exported as:
// "sysmetrics_memory_" + SnakeCase(key), + "_bytes" when kib, + "_value"
// when it would otherwise end in "_total", "_count", "_sum" or "_bucket"
// (suffixes a gauge must not have).
std::string UnknownFamilyName(std::string_view key, bool kib);

}  // namespace sysmetrics::memory
