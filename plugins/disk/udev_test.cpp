#include "udev.hpp"

#include <doctest/doctest.h>

#include <string>

namespace sysmetrics::disk {
namespace {

// As systemd-udevd 252 writes it for a SATA disk (Debian 12).
constexpr std::string_view kSata =
    "S:disk/by-id/ata-ST2000DM008-2FR102_ZFL1ABCD\n"
    "S:disk/by-path/pci-0000:00:17.0-ata-1\n"
    "W:4\n"
    "I:1733300000000000\n"
    "E:ID_ATA=1\n"
    "E:ID_TYPE=disk\n"
    "E:ID_BUS=ata\n"
    "E:ID_MODEL=ST2000DM008-2FR102\n"
    "E:ID_REVISION=0001\n"
    "E:ID_SERIAL=ST2000DM008-2FR102_ZFL1ABCD\n"
    "E:ID_SERIAL_SHORT=ZFL1ABCD\n"
    "E:ID_ATA_WRITE_CACHE=1\n"
    "E:ID_ATA_WRITE_CACHE_ENABLED=1\n"
    "E:ID_ATA_ROTATION_RATE_RPM=7200\n"
    "E:ID_WWN=0x5000c500a1b2c3d4\n"
    "E:ID_PATH=pci-0000:00:17.0-ata-1\n"
    "E:ID_PATH_TAG=pci-0000_00_17_0-ata-1\n"
    "G:systemd\n"
    "Q:systemd\n"
    "V:1\n";

TEST_CASE("a SATA disk's entry: the properties node reads") {
  UdevProperties p;
  ParseUdevData(kSata, &p);
  CHECK(p.value[kIdAta] == "1");
  CHECK(p.value[kIdModel] == "ST2000DM008-2FR102");
  CHECK(p.value[kIdRevision] == "0001");
  CHECK(p.value[kIdSerialShort] == "ZFL1ABCD");
  CHECK(p.value[kIdWwn] == "0x5000c500a1b2c3d4");
  CHECK(p.value[kIdPath] == "pci-0000:00:17.0-ata-1");
  CHECK(p.value[kIdAtaWriteCache] == "1");
  CHECK(p.value[kIdAtaWriteCacheEnabled] == "1");
  CHECK(p.value[kIdAtaRotationRateRpm] == "7200");
  CHECK(p.line[kIdAtaRotationRateRpm] == 14);
  CHECK(p.value[kIdFsType].empty());
  CHECK(p.line[kIdFsType] == 0);
  CHECK(p.value[kDmName].empty());
}

TEST_CASE("split at the first '=', nothing trimmed, the last of a key wins") {
  UdevProperties p;
  ParseUdevData(
      "E:DM_NAME=vg0-root\n"
      "E:DM_UUID=LVM-abc=def\n"      // '=' in the value stays
      "E:ID_MODEL= spaced model \n"  // blanks stay, as node keeps them
      "E:DM_NAME=vg0-home\n"         // later wins (node fills a map)
      "E:ID_FS_TYPE=\n"              // present but empty
      "E:ID_PATH\n"                  // no '=': ignored
      "ID_WWN=not-a-property\n"      // no "E:": ignored
      " E:ID_REVISION=x\n"           // not at the start: ignored
      "E:ID_SERIAL_SHORT=S1\r\n"     // CRLF: the '\r' goes, as Go's Scanner
      "E:ID_FS_UUID=last-line-without-newline",
      &p);
  CHECK(p.value[kDmName] == "vg0-home");
  CHECK(p.line[kDmName] == 4);
  CHECK(p.value[kDmUuid] == "LVM-abc=def");
  CHECK(p.value[kIdModel] == " spaced model ");
  CHECK(p.value[kIdFsType].empty());
  CHECK(p.line[kIdFsType] == 5);
  CHECK(p.value[kIdPath].empty());
  CHECK(p.value[kIdWwn].empty());
  CHECK(p.value[kIdRevision].empty());
  CHECK(p.value[kIdSerialShort] == "S1");
  CHECK(p.value[kIdFsUuid] == "last-line-without-newline");
}

TEST_CASE("a new parse starts from nothing") {
  UdevProperties p;
  ParseUdevData(kSata, &p);
  ParseUdevData("", &p);
  for (int k = 0; k < kUdevKeys; ++k) {
    CAPTURE(kUdevKeyNames[k]);
    CHECK(p.value[k].empty());
    CHECK(p.line[k] == 0);
  }
  ParseUdevData("garbage\n\x01\x02\n=\nE:\nE:=\n", &p);
  for (int k = 0; k < kUdevKeys; ++k) CHECK(p.value[k].empty());
}

TEST_CASE("ATA values: numbers only") {
  double v = -1;
  REQUIRE(ParseUdevNumber("7200", &v));
  CHECK(v == 7200);
  REQUIRE(ParseUdevNumber("0", &v));
  CHECK(v == 0);
  REQUIRE(ParseUdevNumber("1.5", &v));
  CHECK(v == 1.5);
  v = 42;
  for (const char* bad : {"", "fast", " 1", "1 ", "1x", "0x10", "+"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseUdevNumber(bad, &v));
    CHECK(v == 42);
  }
}

}  // namespace
}  // namespace sysmetrics::disk
