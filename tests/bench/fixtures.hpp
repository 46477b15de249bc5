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
// A /proc/self/mountinfo: a root, then container-style overlay and bind
// mounts with optional fields, a tenth of them with an escaped space.
std::string MountInfo(int mounts);

// Writes a procfs tree with those four files under root.
void WriteProcfs(const std::string& root, int cpus, int disks, int interfaces);

}  // namespace sysmetrics::bench
