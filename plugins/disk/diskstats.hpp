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
// so a line has 14, 18 or 20 fields, and the kernel document says more may
// come. Sectors are 512 bytes whatever the device's sector size (the block
// layer counts in 512-byte units).
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
  std::string_view name;        // as printed: any bytes but blanks and newlines
  std::string_view major_text;  // columns 1 and 2 as printed (decimal)
  std::string_view minor_text;
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::size_t line = 0;             // 1-based number of the line it came from
  int stats = 0;                    // 11, 15 or 17
  std::uint64_t v[kMaxStats] = {};  // valid for [0, stats)
};

struct DiskStats {
  std::vector<DiskLine> devices;             // in file order, names unique
  std::vector<plugin::SkippedLine> skipped;  // in line order
  // The parser's scratch, not part of the result: a hash table of indices
  // into devices by name, kept here so its memory is reused across parses.
  std::vector<std::uint32_t> name_index;
};

// Parses text (the file's content); file names the file in the error.
//
// Each non-blank line is "major minor name" and n stat fields, read as the
// first 17 stats when n >= 17, 15 when n >= 15, 11 when n >= 11 (as
// node_exporter's procfs library does); the fields after those are not
// looked at, so a kernel that appends fields costs nothing. A line is
// skipped, and recorded in out->skipped with its 1-based line number and a
// reason that names the device but not the file or line ("sda: field 6
// 'x3' is not a number"), when it has no name, its major or minor is not a
// decimal number, it has fewer than 11 stats, a stat it reads is not a
// decimal uint64, or its name is that of a device already accepted from an
// earlier line (the earlier line stays). Blank lines are ignored.
//
// Returns true when at least one device line was accepted: out->devices
// holds the accepted lines and out->skipped the skipped ones. Otherwise (an
// empty file, every line skipped) returns false and sets *error to
// "<file>: no device line could be read"; out->devices is then empty and
// out->skipped still lists the skipped lines. Both are cleared first and
// keep their capacity.
bool ParseDiskStats(std::string_view text, std::string_view file,
                    DiskStats* out, std::string* error);

}  // namespace sysmetrics::disk
