// Generated /proc contents for benchmarks: a machine of any size, so the
// large trees (128 CPUs, 1,000 disks, 1,000 interfaces) need no checked-in
// files. Deterministic: the same sizes give the same text.
#pragma once

#include <string>

namespace sysmetrics::bench {

std::string ProcStat(int cpus);
std::string MemInfo();
std::string DiskStats(int disks);
std::string NetDev(int interfaces);

// Writes a procfs tree with those four files under root.
void WriteProcfs(const std::string& root, int cpus, int disks, int interfaces);

// Writes a sysfs tree under root with devices/system/cpu/cpuN for each of
// cpus CPUs, two hyperthreads a core, cores split over two packages, each
// with topology and thermal_throttle counts, and an isolated file.
void WriteSysfs(const std::string& root, int cpus);

}  // namespace sysmetrics::bench
