#include "diskstats.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace sysmetrics::disk {
namespace {

constexpr std::string_view kFile = "/proc/diskstats";

TEST_CASE("the fixture: all three widths and every device name form") {
  std::ifstream in(SYSMETRICS_SOURCE_DIR
                   "/plugins/disk/testdata/procfs/diskstats");
  std::stringstream text;
  text << in.rdbuf();
  // The results hold views into the text: it must outlive them.
  const std::string data = text.str();
  DiskStats st;
  std::string err;
  REQUIRE(ParseDiskStats(data, kFile, &st, &err));
  REQUIRE(st.devices.size() == 9);
  CHECK(st.devices[2].name == "nvme0n1");
  CHECK(st.devices[2].stats == 17);  // 20 fields: discards and flushes
  CHECK(st.devices[2].v[0] == 1000);
  CHECK(st.devices[2].v[2] == 200000);
  CHECK(st.devices[2].v[8] == 1);
  CHECK(st.devices[2].v[15] == 100);
  CHECK(st.devices[2].v[16] == 250);
  CHECK(st.devices[3].name == "nvme0n1p1");
  CHECK(st.devices[4].name == "sda");
  CHECK(st.devices[4].stats == 15);  // 18 fields: discards only
  CHECK(st.devices[6].name == "mmcblk0p1");
  CHECK(st.devices[6].stats == 11);  // 14 fields: older kernels
  CHECK(st.devices[7].name == "md127");
  CHECK(st.devices[7].v[6] == 480);
}

TEST_CASE("u64 maximum values parse") {
  DiskStats st;
  std::string err;
  REQUIRE(ParseDiskStats("8 0 sdb 18446744073709551615 0 0 0 0 0 0 0 0 0 0\n",
                         kFile, &st, &err));
  CHECK(st.devices[0].v[0] == 18446744073709551615ULL);
}

TEST_CASE("other widths and garbage fail with file, line and problem") {
  DiskStats st;
  std::string err;
  // 16 fields: no kernel prints that.
  CHECK_FALSE(ParseDiskStats(
      "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3 4 5 6 7 8 9 10 11 12 "
      "13\n",
      kFile, &st, &err));
  CHECK(err == "/proc/diskstats:2: sda1 has 16 fields, want 14, 18 or 20");
  CHECK_FALSE(
      ParseDiskStats("8 0 sda 1 2 x3 4 5 6 7 8 9 10 11\n", kFile, &st, &err));
  CHECK(err == "/proc/diskstats:1: sda field 6 'x3' is not a number");
  CHECK_FALSE(
      ParseDiskStats("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
                     "17 18\n",
                     kFile, &st, &err));
  CHECK(err == "/proc/diskstats:1: sda has more than 20 fields");
  CHECK_FALSE(
      ParseDiskStats("a b sda 1 2 3 4 5 6 7 8 9 10 11\n", kFile, &st, &err));
  CHECK(err == "/proc/diskstats:1: major/minor 'a b' are not numbers");
  CHECK_FALSE(ParseDiskStats("8 0\n", kFile, &st, &err));
  CHECK(err == "/proc/diskstats:1: no device name");
  // Truncated mid-line: too few fields, never a wrong number.
  CHECK_FALSE(ParseDiskStats("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3",
                             kFile, &st, &err));
  CHECK(err == "/proc/diskstats:2: sda1 has 6 fields, want 14, 18 or 20");
}

}  // namespace
}  // namespace sysmetrics::disk
