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

// Writes udev database files (b259:<i>, as systemd-udevd writes them for an
// NVMe disk with a file system) for the disks of DiskStats(disks) into dir.
void WriteUdevData(const std::string& dir, int disks);

// Writes <root>/class/net/eth<i> for interfaces interfaces: links into
// <root>/devices/virtual/net, each with the attributes netclass reads.
void WriteSysfsNet(const std::string& root, int interfaces);

}  // namespace sysmetrics::bench
