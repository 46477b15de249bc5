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
// its key.
struct MemInfo {
  std::optional<std::uint64_t> total;       // MemTotal
  std::optional<std::uint64_t> free;        // MemFree
  std::optional<std::uint64_t> available;   // MemAvailable
  std::optional<std::uint64_t> buffers;     // Buffers
  std::optional<std::uint64_t> cached;      // Cached
  std::optional<std::uint64_t> swap_total;  // SwapTotal
  std::optional<std::uint64_t> swap_free;   // SwapFree
  std::vector<plugin::SkippedLine> skipped;
};

// Parses text (the file's content). file names the file in error messages.
// A known key whose value is not "<digits> kB" fails with
// "<file>:<line>: <problem>"; unknown keys are ignored whatever they hold.
bool ParseMemInfo(std::string_view text, std::string_view file, MemInfo* out,
                  std::string* error);

}  // namespace sysmetrics::memory
