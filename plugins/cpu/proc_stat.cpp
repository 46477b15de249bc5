#include "proc_stat.hpp"

#include "proc_file.hpp"

namespace sysmetrics::cpu {

using plugin::NextField;
using plugin::ParseU64;

namespace {

// The reasons a cpuN line is skipped, built out of line: the hot path only
// reads numbers.
[[gnu::cold, gnu::noinline]] std::string BadNumber(std::string_view key) {
  return std::string(key) + ": CPU number '" + std::string(key.substr(3)) +
         "' is not a decimal number below " + std::to_string(kMaxCpus);
}

[[gnu::cold, gnu::noinline]] std::string TooFew(std::string_view key,
                                                int fields) {
  return std::string(key) + ": " + std::to_string(fields) +
         " fields, want at least 4";
}

[[gnu::cold, gnu::noinline]] std::string NotANumber(std::string_view key,
                                                    int field,
                                                    std::string_view value) {
  return std::string(key) + ": field " + std::to_string(field) + " '" +
         std::string(value) + "' is not a number";
}

// Reads one "cpuN" line (key already split off into key, the rest in rest)
// into *t. On a line that cannot be read returns false and sets *why.
inline bool ReadCpuLine(std::string_view key, std::string_view rest,
                        CpuTimes* t, std::string* why) {
  std::uint64_t number = 0;
  if (!ParseU64(key.substr(3), &number) || number >= kMaxCpus) {
    *why = BadNumber(key);
    return false;
  }
  t->cpu = static_cast<std::uint32_t>(number);
  // The eight modes, then guest and guest_nice (2.6.24, 2.6.33); whatever
  // a later kernel appends is not looked at, so a column added at the end
  // never costs the line.
  constexpr int kRead = kModes + kGuestModes;
  int fields = 0;
  int bad = -1;
  std::string_view bad_field;
  for (; fields < kRead; ++fields) {
    const std::string_view f = NextField(&rest);
    if (f.empty()) break;
    std::uint64_t* to =
        fields < kModes ? &t->ticks[fields] : &t->guest_ticks[fields - kModes];
    if (!ParseU64(f, to) && bad < 0) {
      bad = fields;
      bad_field = f;
    }
  }
  if (fields < 4) {
    *why = TooFew(key, fields);
    return false;
  }
  if (bad >= 0) {
    *why = NotANumber(key, bad + 1, bad_field);
    return false;
  }
  t->modes = fields < kModes ? fields : kModes;
  t->guest_modes = fields - t->modes;
  return true;
}

}  // namespace

bool ParseProcStat(std::string_view text, std::string_view file, ProcStat* out,
                   std::string* error) {
  plugin::ClearForReuse(&out->cpus);
  out->skipped.clear();
  std::size_t last_line = 0;  // of the last accepted cpuN line
  std::string why;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    const std::string_view key = NextField(&rest);
    // "cpu" (the total) and the other keys (intr, ctxt, btime, processes,
    // ...) are not read.
    if (key.size() <= 3 || !key.starts_with("cpu")) return true;
    CpuTimes t;
    if (ReadCpuLine(key, rest, &t, &why)) {
      // The kernel prints online CPUs in ascending order; anything else is
      // a repeated or garbled line, and a repeat would be a duplicate
      // series.
      if (out->cpus.empty() || t.cpu > out->cpus.back().cpu) {
        out->cpus.push_back(t);
        last_line = line_no;
        return true;
      }
      const std::string previous = std::to_string(out->cpus.back().cpu);
      why =
          t.cpu == out->cpus.back().cpu
              ? std::string(key) + " repeats line " + std::to_string(last_line)
              : std::string(key) + " is out of order: follows cpu" + previous +
                    " on line " + std::to_string(last_line);
    }
    out->skipped.push_back({line_no, std::move(why)});
    why.clear();
    return true;
  });
  if (out->cpus.empty()) {
    *error = std::string(file) + ": no per-CPU (cpuN) line could be read";
    return false;
  }
  return true;
}

}  // namespace sysmetrics::cpu
