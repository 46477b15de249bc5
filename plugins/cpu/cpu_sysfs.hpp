// Parsers for the <sysfs>/devices/system/cpu files cpu.so reads besides
// /proc/stat (Documentation/ABI/stable/sysfs-devices-system-cpu and
// Documentation/ABI/testing/sysfs-devices-system-cpu):
//   isolated                        a cpulist: "0-3,8\n", "\n" when none
//   cpuN/topology/physical_package_id, cpuN/topology/core_id,
//   cpuN/thermal_throttle/{core,package}_throttle_count
//                                   one decimal number and a newline
// and the grouping of per-CPU throttle counts by core and package.
//
// Pure functions of their input; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sysmetrics::cpu {

// Parses a cpulist (lib/bitmap.c, bitmap_parselist): comma-separated CPU
// numbers and ranges "N-M" (N <= M), every number below kMaxCpus; spaces
// and a final newline around it are allowed, and an empty list is valid.
// On success sets *cpus to the CPUs in ascending order without repeats and
// returns true. Otherwise returns false, leaves *cpus empty and sets
// *error to what is wrong, naming the element ("'3-1' is not a CPU or a
// range of CPUs below 16384").
bool ParseCpuList(std::string_view text, std::vector<std::uint32_t>* cpus,
                  std::string* error);

// Parses a sysfs file holding one decimal uint64 followed by optional
// whitespace (the newline). Returns false for anything else: empty text,
// a sign ("-1", which physical_package_id holds where the platform does
// not say), text after the number.
bool ParseSysfsU64(std::string_view text, std::uint64_t* out);

}  // namespace sysmetrics::cpu
