#include "fixtures.hpp"

#include <filesystem>
#include <fstream>

namespace sysmetrics::bench {

std::string ProcStat(int cpus) {
  std::string s = "cpu  123456 789 23456 9876543 1234 0 567 89 0 0\n";
  for (int i = 0; i < cpus; ++i) {
    s += "cpu" + std::to_string(i) + " " + std::to_string(123456 + i) +
         " 789 23456 9876543 1234 0 567 89 0 0\n";
  }
  s += "intr 123456789";
  for (int i = 0; i < 64; ++i) s += " " + std::to_string(i * 7);
  s += "\nctxt 987654321\nbtime 1764000000\nprocesses 123456\n"
       "procs_running 3\nprocs_blocked 0\n"
       "softirq 1234567 1 2 3 4 5 6 7 8 9 10\n";
  return s;
}

std::string MemInfo() {
  return "MemTotal:       16314304 kB\nMemFree:         1234567 kB\n"
         "MemAvailable:    9876543 kB\nBuffers:          345678 kB\n"
         "Cached:          7654321 kB\nSwapCached:            0 kB\n"
         "Active:          5432100 kB\nInactive:        6543210 kB\n"
         "Shmem:            123456 kB\nSwapTotal:       2097148 kB\n"
         "SwapFree:        2000000 kB\nDirty:               120 kB\n"
         "Writeback:             0 kB\nAnonPages:       3456789 kB\n"
         "Mapped:           654321 kB\nSlab:             456789 kB\n"
         "HugePages_Total:       0\nHugePages_Free:        0\n"
         "Hugepagesize:       2048 kB\nDirectMap4k:      300000 kB\n";
}

std::string DiskStats(int disks) {
  std::string s;
  for (int i = 0; i < disks; ++i) {
    s += " 259 " + std::to_string(i) + " nvme" + std::to_string(i) +
         "n1 1234567 8901 234567890 123456 2345678 9012 345678901 234567 3 "
         "456789 567890 1234 0 567890 12 34567 890\n";
  }
  return s;
}

std::string MountInfo(int mounts) {
  std::string s =
      "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 "
      "rw,errors=remount-ro\n";
  for (int i = 1; i < mounts; ++i) {
    const std::string n = std::to_string(i);
    if (i % 10 == 0) {
      s += std::to_string(22 + i) + " 22 8:" + n + " / /mnt/disk\\040" + n +
           " rw,relatime shared:" + n + " master:1 - xfs /dev/sd" + n +
           " rw,attr2,inode64,logbufs=8,logbsize=32k,noquota\n";
    } else {
      s += std::to_string(22 + i) + " 22 0:" + n +
           " / /var/lib/containers/storage/overlay/" + n +
           "/merged rw,relatime shared:" + n +
           " - overlay overlay rw,lowerdir=/l" + n + ",upperdir=/u" + n +
           ",workdir=/w" + n + "\n";
    }
  }
  return s;
}

std::string NetDev(int interfaces) {
  std::string s =
      "Inter-|   Receive                                                |  "
      "Transmit\n face |bytes    packets errs drop fifo frame compressed "
      "multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  for (int i = 0; i < interfaces; ++i) {
    s += "  eth" + std::to_string(i) +
         ": 98765432101 87654321 1 2 0 0 0 12345 12345678901 7654321 0 0 0 "
         "0 0 0\n";
  }
  return s;
}

void WriteProcfs(const std::string& root, int cpus, int disks, int interfaces) {
  std::filesystem::create_directories(root + "/net");
  std::ofstream(root + "/stat") << ProcStat(cpus);
  std::ofstream(root + "/meminfo") << MemInfo();
  std::ofstream(root + "/diskstats") << DiskStats(disks);
  std::ofstream(root + "/net/dev") << NetDev(interfaces);
}

}  // namespace sysmetrics::bench
