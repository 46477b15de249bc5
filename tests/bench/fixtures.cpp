#include "fixtures.hpp"

#include <algorithm>
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

std::string LoadAvg() { return "0.52 0.58 0.59 2/1234 56789\n"; }

std::string Psi() {
  return "some avg10=0.20 avg60=0.15 avg300=0.09 total=57283911\n"
         "full avg10=0.10 avg60=0.07 avg300=0.04 total=41902237\n";
}

std::string KernelStat(int irqs) {
  std::string s = ProcStat(8);
  // Replace ProcStat's short intr line with one of irqs counts, most of
  // them 0 as on a real host.
  const std::size_t intr = s.find("intr ");
  const std::size_t end = s.find('\n', intr);
  std::string line = "intr 9876543210";
  for (int i = 0; i < irqs; ++i) {
    line += i % 16 == 0 ? " " + std::to_string(123456 + i) : " 0";
  }
  return s.replace(intr, end - intr, line);
}

std::string VmStat() {
  std::string s;
  // The names matter only as lengths and prefixes: real ones for the
  // default pattern's matches, numbered nr_* for the rest.
  const char* const kMatched[] = {"pgpgin",   "pgpgout",     "pswpin",
                                  "pswpout",  "pgfault",     "pgmajfault",
                                  "oom_kill", "pgpgoutclean"};
  for (const char* name : kMatched) {
    s += std::string(name) + " 123456789\n";
  }
  for (int i = 0; i < 172; ++i) {
    s += "nr_zone_counter_" + std::to_string(i) + " " +
         std::to_string(1000 * i) + "\n";
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

void WriteUdevData(const std::string& dir, int disks) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < disks; ++i) {
    const std::string n = std::to_string(i);
    std::ofstream(dir + "/b259:" + n)
        << "S:disk/by-id/nvme-Samsung_SSD_970_EVO_Plus_1TB_S4EWNX0R" << n
        << "\nS:disk/by-path/pci-0000:02:00.0-nvme-" << n
        << "\nW:12\nI:1733300000000000\nE:ID_SERIAL_SHORT=S4EWNX0R" << n
        << "\nE:ID_WWN=eui.0025388b91b0a5c1\nE:ID_MODEL=Samsung SSD 970 EVO "
           "Plus 1TB\nE:ID_REVISION=2B2QEXM7\nE:ID_PATH=pci-0000:02:00.0-nvme-"
        << n
        << "\nE:ID_PART_TABLE_TYPE=gpt\nE:ID_FS_TYPE=ext4\nE:ID_FS_USAGE="
           "filesystem\nE:ID_FS_UUID=0e4b6a2c-7d1f-4b3a-9c5e-8f2d1a0b3c4d\n"
           "E:ID_FS_VERSION=1.0\nG:systemd\nQ:systemd\nV:1\n";
  }
}

void WriteSysfsNet(const std::string& root, int interfaces) {
  static const char* const kAttributes[][2] = {
      {"addr_assign_type", "0"},
      {"address", "8c:16:45:12:34:56"},
      {"broadcast", "ff:ff:ff:ff:ff:ff"},
      {"carrier", "1"},
      {"carrier_changes", "4"},
      {"carrier_up_count", "2"},
      {"carrier_down_count", "2"},
      {"dev_id", "0x0"},
      {"dormant", "0"},
      {"duplex", "full"},
      {"flags", "0x1003"},
      {"ifalias", ""},
      {"ifindex", "2"},
      {"iflink", "2"},
      {"link_mode", "0"},
      {"mtu", "1500"},
      {"name_assign_type", "4"},
      {"netdev_group", "0"},
      {"operstate", "up"},
      {"speed", "1000"},
      {"tx_queue_len", "1000"},
      {"type", "1"},
  };
  std::filesystem::create_directories(root + "/class/net");
  for (int i = 0; i < interfaces; ++i) {
    const std::string name = "eth" + std::to_string(i);
    const std::string dir = root + "/devices/virtual/net/" + name;
    std::filesystem::create_directories(dir);
    for (const auto& [file, value] : kAttributes) {
      std::ofstream(dir + "/" + file) << value << "\n";
    }
    std::filesystem::create_directory_symlink(
        "../../devices/virtual/net/" + name, root + "/class/net/" + name);
  }
}

void WriteSysfs(const std::string& root, int cpus) {
  const std::string dir = root + "/devices/system/cpu";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/isolated") << "\n";
  const int cores = std::max(cpus / 2, 1);
  for (int i = 0; i < cpus; ++i) {
    const std::string cpu = dir + "/cpu" + std::to_string(i);
    const int core = i % cores;
    std::filesystem::create_directories(cpu + "/topology");
    std::filesystem::create_directories(cpu + "/thermal_throttle");
    std::ofstream(cpu + "/topology/physical_package_id")
        << (core < cores / 2 ? 0 : 1) << "\n";
    std::ofstream(cpu + "/topology/core_id") << core << "\n";
    std::ofstream(cpu + "/thermal_throttle/core_throttle_count")
        << core * 3 << "\n";
    std::ofstream(cpu + "/thermal_throttle/package_throttle_count") << "42\n";
  }
}

}  // namespace sysmetrics::bench
