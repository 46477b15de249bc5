// Parser for <procfs>/meminfo, the kernel's memory usage summary.
//
// Format (Documentation/filesystems/proc.rst, "meminfo"): one "Key: value"
// per line, the value in kibibytes followed by "kB" for sizes
// ("MemTotal:       16314304 kB") and bare for counts
// ("HugePages_Total:       0"). Keys come and go with kernel versions and
// configuration (MemAvailable appeared in 3.14), so only the keys this
// parser knows are read and any of them may be absent.
//
// Pure function of its input; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::memory {

// The values in bytes (kB x 1024), each present only if the kernel printed
// its key on a line that could be read.
struct MemInfo {
  std::optional<std::uint64_t> total;        // MemTotal
  std::optional<std::uint64_t> free;         // MemFree
  std::optional<std::uint64_t> available;    // MemAvailable
  std::optional<std::uint64_t> buffers;      // Buffers
  std::optional<std::uint64_t> cached;       // Cached
  std::optional<std::uint64_t> swap_total;   // SwapTotal
  std::optional<std::uint64_t> swap_free;    // SwapFree
  std::vector<plugin::SkippedLine> skipped;  // in line order
};

// Parses text (the file's content); file names the file in the error.
//
// A line's key is the text before its first ':', taken as it is. Lines
// with a key other than the seven above are ignored whatever they hold
// (kernels add keys) and are not reported, and so are blank lines. A line
// for a known key is read as "<decimal uint64> kB"; fields after "kB" are
// ignored. These lines are skipped, and recorded in out->skipped with
// their 1-based line number and a reason that names the key but not the
// file or line ("MemFree: value 'abc' is not a number"): a non-blank line
// with no ':'; a known key with no value, a value that is not a number or
// whose unit is not "kB", or one too large to count in bytes as a uint64;
// a known key already read from an earlier line (the earlier value stays).
//
// Returns true when at least one known key was read; the others stay
// empty. Otherwise (an empty file, none of the keys, each one skipped)
// returns false and sets *error to "<file>: none of the keys MemTotal,
// MemFree, MemAvailable, Buffers, Cached, SwapTotal, SwapFree could be
// read"; the values are then all empty and out->skipped still lists the
// skipped lines. Every value is reset first; out->skipped is cleared and
// keeps its capacity.
bool ParseMemInfo(std::string_view text, std::string_view file, MemInfo* out,
                  std::string* error);

}  // namespace sysmetrics::memory
