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
std::string LoadAvg();
// A /proc/pressure/* file with both lines (io, memory; cpu since 5.13).
std::string Psi();
// A /proc/stat of 8 CPUs whose intr line counts irqs interrupt numbers
// (a large host with MSI-X devices prints thousands) and a softirq line.
std::string KernelStat(int irqs);
// A /proc/vmstat as a 6.x kernel prints it (about 180 fields).
std::string VmStat();
// A /proc/self/mountinfo: a root, then container-style overlay and bind
// mounts with optional fields, a tenth of them with an escaped space.
std::string MountInfo(int mounts);

// Writes a procfs tree with those four files under root.
void WriteProcfs(const std::string& root, int cpus, int disks, int interfaces);

// Writes udev database files (b259:<i>, as systemd-udevd writes them for an
// NVMe disk with a file system) for the disks of DiskStats(disks) into dir.
void WriteUdevData(const std::string& dir, int disks);

// Writes <root>/class/net/eth<i> for interfaces interfaces: links into
// <root>/devices/virtual/net, each with the attributes netclass reads.
void WriteSysfsNet(const std::string& root, int interfaces);

// Writes a sysfs tree under root with devices/system/cpu/cpuN for each of
// cpus CPUs, two hyperthreads a core, cores split over two packages, each
// with topology and thermal_throttle counts, and an isolated file.
void WriteSysfs(const std::string& root, int cpus);

}  // namespace sysmetrics::bench
