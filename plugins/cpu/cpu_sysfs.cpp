#include "cpu_sysfs.hpp"

#include <algorithm>

#include "proc_file.hpp"
#include "proc_stat.hpp"
#include "text.hpp"

namespace sysmetrics::cpu {
namespace {

bool ParseCpu(std::string_view s, std::uint64_t* cpu) {
  return plugin::ParseU64(s, cpu) && *cpu < kMaxCpus;
}

}  // namespace

bool ParseCpuList(std::string_view text, std::vector<std::uint32_t>* cpus,
                  std::string* error) {
  cpus->clear();
  std::string_view rest = TrimSpace(text);
  if (rest.empty()) return true;
  for (;;) {
    const std::size_t comma = rest.find(',');
    const std::string_view element = TrimSpace(rest.substr(0, comma));
    const std::size_t dash = element.find('-');
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    bool ok = false;
    if (dash == std::string_view::npos) {
      ok = ParseCpu(element, &first);
      last = first;
    } else {
      ok = ParseCpu(element.substr(0, dash), &first) &&
           ParseCpu(element.substr(dash + 1), &last) && first <= last;
    }
    if (!ok) {
      cpus->clear();
      *error = "'" + std::string(element) +
               "' is not a CPU or a range of CPUs below " +
               std::to_string(kMaxCpus);
      return false;
    }
    for (std::uint64_t c = first; c <= last; ++c) {
      cpus->push_back(static_cast<std::uint32_t>(c));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(cpus->begin(), cpus->end());
  cpus->erase(std::unique(cpus->begin(), cpus->end()), cpus->end());
  return true;
}

bool ParseSysfsU64(std::string_view text, std::uint64_t* out) {
  const std::size_t end = text.find_last_not_of(" \t\n");
  if (end == std::string_view::npos) return false;
  return plugin::ParseU64(text.substr(0, end + 1), out);
}

}  // namespace sysmetrics::cpu
