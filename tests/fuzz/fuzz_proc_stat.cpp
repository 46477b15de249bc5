// Fuzz target for ParseProcStat (plugins/cpu/proc_stat.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves no CPU; skipped lines (on success or failure) have a reason and
// 1-based numbers, strictly increasing, within the text's line count; a
// success keeps the header's promises (4 to 8 modes, guest columns only
// after all 8, ascending CPU numbers); a result parsed into a ProcStat that
// held other CPUs and skipped lines has none of them left; and the result
// written back as /proc/stat text parses, with no line skipped, to the same
// result, so a line misread without being skipped is caught too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"
#include "proc_stat.hpp"

namespace sysmetrics::cpu {
namespace {

constexpr std::string_view kFile = "/proc/stat";

std::string Render(const ProcStat& stat) {
  std::string text = "cpu  1 2 3 4\n";
  for (const CpuTimes& t : stat.cpus) {
    text += "cpu" + std::to_string(t.cpu);
    for (int m = 0; m < t.modes; ++m) text += " " + std::to_string(t.ticks[m]);
    for (int m = 0; m < t.guest_modes; ++m) {
      text += " " + std::to_string(t.guest_ticks[m]);
    }
    text += "\n";
  }
  return text;
}

bool Same(const ProcStat& a, const ProcStat& b) {
  if (a.cpus.size() != b.cpus.size()) return false;
  for (std::size_t i = 0; i < a.cpus.size(); ++i) {
    const CpuTimes& x = a.cpus[i];
    const CpuTimes& y = b.cpus[i];
    if (x.cpu != y.cpu || x.modes != y.modes ||
        x.guest_modes != y.guest_modes) {
      return false;
    }
    for (int m = 0; m < x.modes; ++m) {
      if (x.ticks[m] != y.ticks[m]) return false;
    }
    for (int m = 0; m < x.guest_modes; ++m) {
      if (x.guest_ticks[m] != y.guest_ticks[m]) return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace sysmetrics::cpu

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace cpu = sysmetrics::cpu;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  cpu::ProcStat stat;
  // Stale entries from an earlier scrape, which the parse must replace.
  stat.cpus.resize(3);
  stat.skipped.push_back({size + 1, "stale"});
  std::string error;
  const bool ok = cpu::ParseProcStat(text, cpu::kFile, &stat, &error);
  sysmetrics::fuzz::CheckSkipped(text, stat.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(cpu::kFile) + ":") &&
                   error.size() > cpu::kFile.size() + 1,
               "error does not name the file: '" + error + "'");
    FUZZ_CHECK(stat.cpus.empty(), "failure with a CPU");
    return 0;
  }
  FUZZ_CHECK(!stat.cpus.empty(), "success without a CPU");
  for (std::size_t i = 0; i < stat.cpus.size(); ++i) {
    const cpu::CpuTimes& t = stat.cpus[i];
    FUZZ_CHECK(t.modes >= 4 && t.modes <= cpu::kModes,
               "cpu" + std::to_string(t.cpu) + " has " +
                   std::to_string(t.modes) + " modes");
    FUZZ_CHECK(t.guest_modes >= 0 && t.guest_modes <= cpu::kGuestModes &&
                   (t.guest_modes == 0 || t.modes == cpu::kModes),
               "cpu" + std::to_string(t.cpu) + " has " +
                   std::to_string(t.guest_modes) + " guest modes after " +
                   std::to_string(t.modes) + " modes");
    FUZZ_CHECK(i == 0 || stat.cpus[i - 1].cpu < t.cpu,
               "CPU numbers not ascending at cpu" + std::to_string(t.cpu));
  }
  const std::string again = cpu::Render(stat);
  cpu::ProcStat reparsed;
  FUZZ_CHECK(cpu::ParseProcStat(again, cpu::kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(),
             "the result written back skips line " +
                 std::to_string(reparsed.skipped[0].line) + ": " +
                 reparsed.skipped[0].reason);
  FUZZ_CHECK(cpu::Same(stat, reparsed),
             "the result written back parses differently:\n" + again);
  return 0;
}
