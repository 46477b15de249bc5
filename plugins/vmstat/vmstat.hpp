// Parser for <procfs>/vmstat, the virtual memory counters.
//
// Format (mm/vmstat.c, vmstat_start/vmstat_show): one "name value" per
// line, e.g. "pgfault 123456789", the value an unsigned long printed with
// %lu. The set of names differs with kernel version and configuration
// (oom_kill appeared in 4.13, many nr_* come and go), so every line is
// taken as it is and none is required.
//
// Pure function of its input; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::vmstat {

struct VmStatField {
  std::string_view name;  // into the parsed text
  std::uint64_t value = 0;
  std::size_t line = 0;  // 1-based, where it was read
};

struct VmStat {
  std::vector<VmStatField> fields;           // in file order
  std::vector<plugin::SkippedLine> skipped;  // in line order
  // True when fields has exactly the names, in the same order, of the
  // previous parse into this VmStat, and that parse skipped no line: what a
  // caller decided per field then still holds for each field now.
  bool same_names = false;
  std::vector<std::uint32_t> index;  // scratch (name_index.hpp)
  std::string names;  // scratch: the last clean parse's names, '\n'-ended
};

// Parses text (the file's content); file names the file in the error.
// out->fields' names point into text: valid while text is.
//
// Each non-blank line is "<name> <decimal uint64>"; fields after the value
// are ignored. These lines are skipped, and recorded in out->skipped with
// their 1-based line number and a reason that names the field but not the
// file or line ("pgfault: value 'x' is not a number"): no value, a value
// that is not a decimal uint64, a name with a character other than
// [A-Za-z0-9_] (it could not be part of a metric name), a name already
// read from an earlier line (the earlier value stays: a repeat would be a
// duplicate series).
//
// Returns true when at least one line was read. Otherwise (an empty file,
// every line skipped) returns false and sets *error to "<file>: no 'name
// value' line could be read"; out->fields is then empty and out->skipped
// still lists the skipped lines. The vectors are cleared first and keep
// their capacity.
//
// The kernel prints the same names in the same order on every read, so a
// parse that finds the previous clean parse's names again (same_names)
// checks each name against that list instead of validating and indexing
// it; the result is the same either way.
bool ParseVmStat(std::string_view text, std::string_view file, VmStat* out,
                 std::string* error);

}  // namespace sysmetrics::vmstat
