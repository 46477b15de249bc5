// STUB for integration; replaced by the memory plugin's table.
#pragma once
#include <string_view>
namespace sysmetrics::memory {
struct MeminfoField {
  std::string_view key;
  std::string_view family;
  bool kib;
  std::string_view help;
};
inline constexpr MeminfoField kMeminfoFields[] = {
    {"MemTotal", "sysmetrics_memory_total_bytes", true, "Usable RAM."},
    {"Active(anon)", "sysmetrics_memory_active_anon_bytes", true, "x"},
    {"HugePages_Total", "sysmetrics_memory_huge_pages", false, "x"},
};
}  // namespace sysmetrics::memory
