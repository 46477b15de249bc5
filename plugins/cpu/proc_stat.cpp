#include "proc_stat.hpp"

#include "proc_file.hpp"

namespace sysmetrics::cpu {

using plugin::NextField;
using plugin::ParseU64;

bool ParseProcStat(std::string_view text, std::string_view file, ProcStat* out,
                   std::string* error) {
  out->cpus.clear();
  bool ok = true;
  auto fail = [&](std::size_t line_no, const std::string& what) {
    *error = std::string(file) + ":" + std::to_string(line_no) + ": " + what;
    ok = false;
    return false;
  };
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    const std::string_view key = NextField(&rest);
    // Only "cpuN" lines matter; "cpu" (the total) and the other keys
    // (intr, ctxt, btime, processes, ...) are skipped.
    if (key.size() <= 3 || !key.starts_with("cpu")) return true;
    CpuTimes t;
    std::uint64_t number = 0;
    if (!ParseU64(key.substr(3), &number) || number > 0xFFFFFFFFu) {
      return fail(line_no, "bad CPU name '" + std::string(key) + "'");
    }
    t.cpu = static_cast<std::uint32_t>(number);
    int fields = 0;
    for (std::string_view f = NextField(&rest); !f.empty();
         f = NextField(&rest)) {
      std::uint64_t v = 0;
      if (!ParseU64(f, &v)) {
        return fail(line_no, std::string(key) + " field " +
                                 std::to_string(fields + 1) + " '" +
                                 std::string(f) + "' is not a number");
      }
      if (fields < kModes) t.ticks[fields] = v;
      ++fields;
    }
    if (fields < 4) {
      return fail(line_no, std::string(key) + " line has " +
                               std::to_string(fields) +
                               " fields, want at least 4");
    }
    t.modes = fields < kModes ? fields : kModes;
    // The kernel prints online CPUs in ascending order; anything else means
    // a repeated or garbled line, and a repeat would be a duplicate series.
    if (!out->cpus.empty() && t.cpu <= out->cpus.back().cpu) {
      return fail(line_no, std::string(key) + " follows cpu" +
                               std::to_string(out->cpus.back().cpu) +
                               " (want ascending CPU numbers, no repeats)");
    }
    out->cpus.push_back(t);
    return true;
  });
  if (ok && out->cpus.empty()) {
    *error = std::string(file) + ": no per-CPU (cpuN) lines";
    return false;
  }
  return ok;
}

}  // namespace sysmetrics::cpu
