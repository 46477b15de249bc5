// Parser for one pressure stall information file, <procfs>/pressure/{cpu,
// io,memory,irq}.
//
// Format (Documentation/accounting/psi.rst): up to two lines,
//   some avg10=0.00 avg60=0.00 avg300=0.00 total=123456
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=7890
// "some": time at least one task was stalled on the resource; "full": time
// all non-idle tasks were. total= is the cumulative stall time in
// microseconds. Which lines a file has depends on the kernel: cpu has only
// "some" before 5.13, irq (6.1+) only "full". The avgN= fields are not read:
// rates are the query's job.
//
// Pure function of its input; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::pressure {

struct Psi {
  std::optional<std::uint64_t> some_us;      // the "some" line's total=
  std::optional<std::uint64_t> full_us;      // the "full" line's total=
  std::vector<plugin::SkippedLine> skipped;  // in line order
};

// Parses text (the file's content); file names the file in the error.
//
// A line's first field is its kind, "some" or "full"; its value is the
// first later field that starts with "total=", read as a decimal uint64;
// other fields (avg10=, ...) are not read. Blank lines are ignored. These
// lines are skipped, and recorded in out->skipped with their 1-based line
// number and a reason that names the kind but not the file or line
// ("some: total 'x' is not a number"): a kind other than some or full, no
// total= field, a total that is not a decimal uint64, a kind already read
// from an earlier line (the earlier value stays).
//
// Returns true when the some or the full line was read; the other may be
// empty. Otherwise (an empty file, both skipped) returns false and sets
// *error to "<file>: no some or full line could be read"; both values are
// then empty and out->skipped still lists the skipped lines. Both values
// are reset first; out->skipped is cleared and keeps its capacity.
bool ParsePsi(std::string_view text, std::string_view file, Psi* out,
              std::string* error);

}  // namespace sysmetrics::pressure
