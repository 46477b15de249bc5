// Fuzz target for ParseDiskStats (plugins/disk/diskstats.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves no device; skipped lines (on success or failure) have a reason and
// 1-based numbers, strictly increasing, within the text's line count; a
// success keeps the header's promises (11, 15 or 17 stats; names are
// unique non-empty fields that point into the parsed text; each device's
// line number is ascending, in range and not a skipped one); a parse into a
// DiskStats that held devices and skipped lines keeps none of them; and
// the result written back as diskstats text parses, with no line skipped,
// to the same result.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "diskstats.hpp"
#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"

namespace sysmetrics::disk {
namespace {

constexpr std::string_view kFile = "/proc/diskstats";

std::string Render(const DiskStats& stats) {
  std::string text;
  for (const DiskLine& d : stats.devices) {
    text += "   8       0 " + std::string(d.name);
    for (int i = 0; i < d.stats; ++i) text += " " + std::to_string(d.v[i]);
    text += "\n";
  }
  return text;
}

bool Same(const DiskStats& a, const DiskStats& b) {
  if (a.devices.size() != b.devices.size()) return false;
  for (std::size_t i = 0; i < a.devices.size(); ++i) {
    const DiskLine& x = a.devices[i];
    const DiskLine& y = b.devices[i];
    if (x.name != y.name || x.stats != y.stats) return false;
    for (int k = 0; k < x.stats; ++k) {
      if (x.v[k] != y.v[k]) return false;
    }
  }
  return true;
}

bool Inside(std::string_view part, std::string_view whole) {
  const std::less_equal<const char*> le;
  return le(whole.data(), part.data()) &&
         le(part.data() + part.size(), whole.data() + whole.size());
}

}  // namespace
}  // namespace sysmetrics::disk

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace disk = sysmetrics::disk;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  disk::DiskStats stats;
  // Devices from an earlier scrape, which the parse must replace.
  stats.devices.resize(2);
  stats.skipped.push_back({size + 1, "stale"});
  std::string error;
  const bool ok = disk::ParseDiskStats(text, disk::kFile, &stats, &error);
  sysmetrics::fuzz::CheckSkipped(text, stats.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(disk::kFile) + ":") &&
                   error.size() > disk::kFile.size() + 1,
               "error does not name the file: '" + error + "'");
    FUZZ_CHECK(stats.devices.empty(), "failure with a device");
    return 0;
  }
  FUZZ_CHECK(!stats.devices.empty(), "success without a device");
  const std::size_t lines = sysmetrics::fuzz::LineCount(text);
  std::set<std::string_view> names;
  std::set<std::size_t> skipped_lines;
  for (const auto& s : stats.skipped) skipped_lines.insert(s.line);
  for (std::size_t i = 0; i < stats.devices.size(); ++i) {
    const disk::DiskLine& d = stats.devices[i];
    FUZZ_CHECK(names.insert(d.name).second,
               "device name '" + std::string(d.name) + "' repeats");
    FUZZ_CHECK(
        d.line >= 1 && d.line <= lines &&
            (i == 0 || stats.devices[i - 1].line < d.line) &&
            skipped_lines.count(d.line) == 0,
        std::string(d.name) + " has line number " + std::to_string(d.line));
  }
  for (const disk::DiskLine& d : stats.devices) {
    FUZZ_CHECK(!d.name.empty() && disk::Inside(d.name, text),
               "device name not inside the parsed text");
    FUZZ_CHECK(d.name.find_first_of(" \t\n") == std::string_view::npos,
               "device name '" + std::string(d.name) + "' holds a blank");
    FUZZ_CHECK(
        d.stats == 11 || d.stats == 15 || d.stats == 17,
        std::string(d.name) + " has " + std::to_string(d.stats) + " stats");
  }
  const std::string again = disk::Render(stats);
  disk::DiskStats reparsed;
  FUZZ_CHECK(disk::ParseDiskStats(again, disk::kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(),
             "the result written back skips line " +
                 std::to_string(reparsed.skipped[0].line) + ": " +
                 reparsed.skipped[0].reason);
  FUZZ_CHECK(disk::Same(stats, reparsed),
             "the result written back parses differently:\n" + again);
  return 0;
}
