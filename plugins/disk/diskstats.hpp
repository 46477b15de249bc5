// Parser for <procfs>/diskstats, the per-device block I/O counters.
//
// Format (Documentation/admin-guide/iostats.rst and
// Documentation/ABI/testing/procfs-diskstats): "major minor name" and then
//   1 reads completed      2 reads merged       3 sectors read
//   4 ms reading           5 writes completed   6 writes merged
//   7 sectors written      8 ms writing         9 I/Os in progress
//  10 ms doing I/O        11 weighted ms doing I/O
// kernel 4.18 adds
//  12 discards completed  13 discards merged   14 sectors discarded
//  15 ms discarding
// and kernel 5.5 adds
//  16 flush requests completed                 17 ms flushing
// so a line has 14, 18 or 20 fields. Sectors are 512 bytes whatever the
// device's sector size (the block layer counts in 512-byte units).
//
// Pure function of its input; thread-safe. Names in the result point into
// the parsed text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::disk {

inline constexpr int kMaxStats = 17;

struct DiskLine {
  std::string_view name;
  int stats = 0;  // 11, 15 or 17
  std::uint64_t v[kMaxStats] = {};
};

struct DiskStats {
  std::vector<DiskLine> devices;  // in file order
  std::vector<plugin::SkippedLine> skipped;
};

// Parses text; on failure returns false and sets *error to
// "<file>:<line>: <problem>". Reuses out->devices' capacity.
bool ParseDiskStats(std::string_view text, std::string_view file,
                    DiskStats* out, std::string* error);

}  // namespace sysmetrics::disk
