#include "diskstats.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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
  CHECK(st.devices[2].major == 259);  // kept for the udev database's b259:0
  CHECK(st.devices[2].minor == 0);
  CHECK(st.devices[2].major_text == "259");
  CHECK(st.devices[2].minor_text == "0");
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

// The line numbers of out.skipped, in order.
std::vector<std::size_t> Lines(const DiskStats& st) {
  std::vector<std::size_t> lines;
  for (const plugin::SkippedLine& s : st.skipped) lines.push_back(s.line);
  return lines;
}

// "major minor name 1 2 ... stats".
std::string Line(std::string_view name, int stats) {
  std::string s = "8 0 " + std::string(name);
  for (int i = 1; i <= stats; ++i) s += " " + std::to_string(i);
  return s;
}

TEST_CASE("each width reads the widest layout it holds; the rest is ignored") {
  struct Case {
    int fields;  // stats after the name
    int read;
  };
  const Case cases[] = {{11, 11}, {12, 11}, {13, 11}, {14, 11}, {15, 15},
                        {16, 15}, {17, 17}, {18, 17}, {19, 17}, {40, 17}};
  for (const Case& c : cases) {
    CAPTURE(c.fields);
    const std::string text = Line("sda", c.fields) + "\n";
    DiskStats st;
    std::string err;
    REQUIRE(ParseDiskStats(text, kFile, &st, &err));
    CHECK(st.skipped.empty());
    REQUIRE(st.devices.size() == 1);
    const DiskLine& d = st.devices[0];
    CHECK(d.stats == c.read);
    for (int i = 0; i < kMaxStats; ++i) {
      CHECK(d.v[i] == (i < c.read ? i + 1 : 0));
    }
  }
}

TEST_CASE("a later kernel's fields are not read, numbers or not") {
  DiskStats st;
  std::string err;
  // 11 + 1 (read 11), 15 + 1 (read 15), 17 + 3 (read 17).
  const std::string text =
      "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 x\n"
      "8 1 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n"
      "8 2 sdc 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 future 1.5 ?\n";
  REQUIRE(ParseDiskStats(text, kFile, &st, &err));
  CHECK(st.skipped.empty());
  REQUIRE(st.devices.size() == 3);
  CHECK(st.devices[0].stats == 11);
  CHECK(st.devices[1].stats == 15);
  CHECK(st.devices[1].v[14] == 15);
  CHECK(st.devices[2].stats == 17);
  CHECK(st.devices[2].v[16] == 17);
}

TEST_CASE("one bad line costs that device only") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"8 16 sdb 1 2 x3 4 5 6 7 8 9 10 11",
       "sdb: field 6 'x3' is not a number"},
      {"8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 x15",
       "sdb: field 18 'x15' is not a number"},
      {"8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 -17",
       "sdb: field 20 '-17' is not a number"},
      {"8 16 sdb 1 2 3 4 5 6 7 8 9 10 99999999999999999999",
       "sdb: field 14 '99999999999999999999' is not a number"},
      {"8 16 sdb 1 2 3", "sdb: 6 fields, want at least 14"},
      {"8 16 sdb 1 2 3 4 5 6 7 8 9 10", "sdb: 13 fields, want at least 14"},
      {"8 16 sdb", "sdb: 3 fields, want at least 14"},
      {"a b sdb 1 2 3 4 5 6 7 8 9 10 11",
       "sdb: major/minor 'a b' are not numbers"},
      {"8 -16 sdb 1 2 3 4 5 6 7 8 9 10 11",
       "sdb: major/minor '8 -16' are not numbers"},
      {"8 16", "no device name"},
      {"8", "no device name"},
      {"8 0 sda 9 9 9 9 9 9 9 9 9 9 9", "sda repeats line 1"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text =
        Line("sda", 11) + "\n" + c.line + "\n" + Line("sdc", 17) + "\n";
    DiskStats st;
    std::string err;
    REQUIRE(ParseDiskStats(text, kFile, &st, &err));
    REQUIRE(st.devices.size() == 2);
    CHECK(st.devices[0].name == "sda");
    CHECK(st.devices[0].line == 1);
    CHECK(st.devices[0].v[0] == 1);  // the first sda's values
    CHECK(st.devices[0].stats == 11);
    CHECK(st.devices[1].name == "sdc");
    CHECK(st.devices[1].line == 3);
    CHECK(st.devices[1].stats == 17);
    CHECK(st.devices[1].v[16] == 17);
    REQUIRE(st.skipped.size() == 1);
    CHECK(st.skipped[0].line == 2);
    CHECK(st.skipped[0].reason == c.reason);
  }
}

TEST_CASE("device names are kept exactly as printed") {
  // The kernel prints the block device name as the kernel knows it: '/'
  // for cciss and ida controllers, '!' where sysfs replaces '/', and
  // whatever a driver or a udev-less setup chose.
  const std::string_view names[] = {
      "cciss/c0d0", "cciss/c0d0p1", "cciss!c0d1",   "ida/c0d0", "rd/c0d0p1",
      "dm-0",       "md127",        "nvme0n1p1",    "vd.a",     "drbd:0",
      "sr0",        "zram0",        "dasd\xc3\xa9", "\xff\xfe"};
  std::string text;
  for (const std::string_view n : names) text += Line(n, 11) + "\n";
  DiskStats st;
  std::string err;
  REQUIRE(ParseDiskStats(text, kFile, &st, &err));
  CHECK(st.skipped.empty());
  REQUIRE(st.devices.size() == std::size(names));
  for (std::size_t i = 0; i < std::size(names); ++i) {
    CHECK(st.devices[i].name == names[i]);
  }
}

TEST_CASE("tabs and runs of blanks separate fields; blank lines are ignored") {
  DiskStats st;
  std::string err;
  REQUIRE(ParseDiskStats("\n   8\t0 \t sda  1 2 3 4 5 6 7 8 9 10 11\t\n \t\n",
                         kFile, &st, &err));
  CHECK(st.skipped.empty());
  REQUIRE(st.devices.size() == 1);
  CHECK(st.devices[0].name == "sda");
  CHECK(st.devices[0].line == 2);
  CHECK(st.devices[0].v[10] == 11);
}

TEST_CASE("repeats among a thousand devices: the earlier line stays") {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += " 259 " + std::to_string(i) + " nvme" + std::to_string(i) + "n1 " +
            std::to_string(i) + " 0 0 0 0 0 0 0 0 0 0\n";
  }
  text += "259 0 nvme7n1 1 2 3 4 5 6 7 8 9 10 11\n";
  text += "259 0 nvme999n1 1 2 3 4 5 6 7 8 9 10 11\n";
  text += "259 0 nvme1000n1 1000 2 3 4 5 6 7 8 9 10 11\n";
  DiskStats st;
  std::string err;
  for (int round = 0; round < 2; ++round) {  // the second reuses the table
    REQUIRE(ParseDiskStats(text, kFile, &st, &err));
    REQUIRE(st.devices.size() == 1001);
    for (int i = 0; i < 1001; ++i) {
      CHECK(st.devices[i].v[0] == static_cast<std::uint64_t>(i));
    }
    CHECK(Lines(st) == std::vector<std::size_t>{1001, 1002});
    CHECK(st.skipped[0].reason == "nvme7n1 repeats line 8");
    CHECK(st.skipped[1].reason == "nvme999n1 repeats line 1000");
  }
}

TEST_CASE("truncated mid-line: the last line is short, never a wrong number") {
  DiskStats st;
  std::string err;
  REQUIRE(ParseDiskStats("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3",
                         kFile, &st, &err));
  REQUIRE(st.devices.size() == 1);
  CHECK(Lines(st) == std::vector<std::size_t>{2});
  CHECK(st.skipped[0].reason == "sda1: 6 fields, want at least 14");
}

TEST_CASE("nothing usable fails with the file and no line number") {
  const std::string kNone = "/proc/diskstats: no device line could be read";
  DiskStats st;
  std::string err;
  CHECK_FALSE(ParseDiskStats("", kFile, &st, &err));
  CHECK(err == kNone);
  CHECK(st.skipped.empty());
  CHECK_FALSE(ParseDiskStats("\n \t\n\n", kFile, &st, &err));
  CHECK(err == kNone);
  CHECK(st.skipped.empty());
  err.clear();
  CHECK_FALSE(ParseDiskStats("<html>\nHello world from a web server\n", kFile,
                             &st, &err));
  CHECK(err == kNone);
  CHECK(st.devices.empty());
  CHECK(Lines(st) == std::vector<std::size_t>{1, 2});
  CHECK(st.skipped[0].reason == "no device name");
  CHECK(st.skipped[1].reason ==
        "from: major/minor 'Hello world' are not numbers");
}

TEST_CASE("a parse replaces the previous result") {
  DiskStats st;
  std::string err;
  const std::string first = Line("sda", 11) + "\n" + Line("sda", 11) + "\n";
  REQUIRE(ParseDiskStats(first, kFile, &st, &err));
  REQUIRE(st.skipped.size() == 1);
  // Kept alive: the device names are views into it.
  const std::string second = Line("sdb", 11) + "\n" + Line("sda", 11) + "\n";
  REQUIRE(ParseDiskStats(second, kFile, &st, &err));
  REQUIRE(st.devices.size() == 2);
  CHECK(st.devices[0].name == "sdb");
  CHECK(st.devices[1].name == "sda");
  CHECK(st.skipped.empty());
}

}  // namespace
}  // namespace sysmetrics::disk
