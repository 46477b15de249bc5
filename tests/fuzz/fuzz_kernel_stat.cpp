// Fuzz target for ParseKernelStat (plugins/stat/kernel_stat.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves every value empty; skipped lines (on success or failure) have a
// reason and 1-based numbers, strictly increasing, within the text's line
// count; a parse into a KernelStat that held an earlier scrape's data keeps
// none of it; and the result written back as /proc/stat text parses, with
// no line skipped, to the same result.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"
#include "kernel_stat.hpp"

namespace sysmetrics::stat {
namespace {

constexpr std::string_view kFile = "/proc/stat";

struct Field {
  const char* key;
  std::optional<std::uint64_t> KernelStat::*member;
};

constexpr Field kFields[] = {
    {"intr", &KernelStat::interrupts},
    {"ctxt", &KernelStat::context_switches},
    {"btime", &KernelStat::boot_time},
    {"processes", &KernelStat::forks},
    {"procs_running", &KernelStat::procs_running},
    {"procs_blocked", &KernelStat::procs_blocked},
};

std::string Render(const KernelStat& st) {
  std::string text = "cpu  1 2 3 4\ncpu0 1 2 3 4\n";
  for (const Field& f : kFields) {
    if (const auto& v = st.*(f.member)) {
      text += std::string(f.key) + " " + std::to_string(*v) + " 0 0\n";
    }
  }
  if (st.has_softirqs) {
    text += "softirq 0";
    for (const std::uint64_t v : st.softirqs) text += " " + std::to_string(v);
    text += "\n";
  }
  return text;
}

}  // namespace
}  // namespace sysmetrics::stat

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace ks = sysmetrics::stat;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ks::KernelStat st;
  // Values from an earlier scrape, which must not survive the parse.
  for (const ks::Field& f : ks::kFields) st.*(f.member) = 1;
  st.has_softirqs = true;
  st.skipped.push_back({size + 1, "stale"});
  std::string error;
  const bool ok = ks::ParseKernelStat(text, ks::kFile, &st, &error);
  sysmetrics::fuzz::CheckSkipped(text, st.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(ks::kFile) + ":"),
               "error does not name the file: '" + error + "'");
    for (const ks::Field& f : ks::kFields) {
      FUZZ_CHECK(!(st.*(f.member)),
                 std::string(f.key) + " set though the parse failed");
    }
    FUZZ_CHECK(!st.has_softirqs, "softirqs set though the parse failed");
    return 0;
  }
  bool any = st.has_softirqs;
  for (const ks::Field& f : ks::kFields) {
    const auto& v = st.*(f.member);
    any = any || v;
    FUZZ_CHECK(!v || text.find(f.key) != std::string_view::npos,
               std::string(f.key) + " set though the text lacks it");
  }
  FUZZ_CHECK(any, "success without a value");
  const std::string again = ks::Render(st);
  ks::KernelStat reparsed;
  FUZZ_CHECK(ks::ParseKernelStat(again, ks::kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(), "the result written back skips a line");
  for (const ks::Field& f : ks::kFields) {
    FUZZ_CHECK(
        st.*(f.member) == reparsed.*(f.member),
        std::string(f.key) + " parses differently written back:\n" + again);
  }
  FUZZ_CHECK(st.has_softirqs == reparsed.has_softirqs,
             "softirq parses differently written back");
  for (int i = 0; st.has_softirqs && i < ks::kSoftirqs; ++i) {
    FUZZ_CHECK(st.softirqs[i] == reparsed.softirqs[i],
               std::string(ks::kSoftirqNames[i]) +
                   " parses differently written back:\n" + again);
  }
  return 0;
}
