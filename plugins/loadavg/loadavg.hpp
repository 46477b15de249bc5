// Parser for <procfs>/loadavg, the scheduler's load averages.
//
// Format (proc(5), Documentation/filesystems/proc.rst "1.7 ... loadavg"):
// one line, "0.52 0.58 0.59 2/1234 56789": the 1, 5 and 15 minute load
// averages (two decimals), runnable/total scheduling entities, the last PID
// allocated. Unchanged since Linux 2.6; only the three averages are read.
//
// Pure function of its input; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sysmetrics::loadavg {

struct LoadAvg {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
};

// Parses text (the file's content); file names the file in the error.
//
// The first line's first three whitespace-separated fields are read as
// decimal numbers (std::from_chars, so never locale-dependent) that must be
// finite and not negative; what follows them on the line, and any later
// line, is ignored. The file is one line, so there is nothing to skip: on
// an empty file, fewer than three fields or a field that is not such a
// number, returns false and sets *error to "<file>:1: ..." saying which
// ("<file>:1: field 2 'x' is not a load average"); *out is then unchanged.
// Otherwise returns true with the three averages in *out.
bool ParseLoadAvg(std::string_view text, std::string_view file, LoadAvg* out,
                  std::string* error);

}  // namespace sysmetrics::loadavg
