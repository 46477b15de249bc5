#include "net_class.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

namespace sysmetrics::netclass {
namespace {

TEST_CASE("TrimSpace drops what sysfs and editors put around a value") {
  CHECK(TrimSpace("up\n") == "up");
  CHECK(TrimSpace(" \t0x1003\r\n") == "0x1003");
  CHECK(TrimSpace("\n") == "");
  CHECK(TrimSpace("") == "");
  CHECK(TrimSpace("my uplink\n") == "my uplink");  // inner blanks stay
}

TEST_CASE("ParseInt reads what strconv.ParseInt(v, 0, 64) reads") {
  struct Case {
    const char* text;
    std::int64_t want;
  };
  const Case cases[] = {
      {"0", 0},
      {"1500", 1500},
      {"-1", -1},  // speed of a link the driver does not know
      {"+7", 7},
      {"0x1003", 4099},  // flags: IFF_UP | IFF_BROADCAST | IFF_MULTICAST
      {"0X1003", 4099},
      {"0x0", 0},  // dev_id
      {"0xff", 255},
      {"0XfF", 255},
      {"017", 15},  // a leading 0 is octal
      {"00", 0},
      {"0o17", 15},
      {"0b101", 5},
      {"-0x10", -16},
      {"1_000", 1000},
      {"0x_1f", 31},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
      {"0x7fffffffffffffff", INT64_MAX},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    std::int64_t got = 12345;
    REQUIRE(ParseInt(c.text, &got));
    CHECK(got == c.want);
  }
}

TEST_CASE("ParseInt refuses what Go refuses, and leaves *out alone") {
  const char* const bad[] = {
      "",
      "-",
      "+",
      "up",
      "0x",
      "0x_",
      "1_",
      "_1",
      "1__0",
      "08",
      "0b2",
      "0o8",
      "0xg",
      "1.5",
      "1e3",
      " 1",
      "1 ",
      "--1",
      "0x-1",
      "12a",
      "1,5",
      "∞",
      "9223372036854775808",   // above INT64_MAX
      "-9223372036854775809",  // below INT64_MIN
      "18446744073709551616",  // above UINT64_MAX
      "0x10000000000000000",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    std::int64_t got = 12345;
    CHECK_FALSE(ParseInt(text, &got));
    CHECK(got == 12345);
  }
}

TEST_CASE("speed: Mbit/s to bytes/s, nothing for an unknown speed") {
  double v = 0;
  REQUIRE(SpeedBytes(1000, &v));
  CHECK(v == 125000000.0);
  REQUIRE(SpeedBytes(0, &v));
  CHECK(v == 0.0);
  REQUIRE(SpeedBytes(100000, &v));
  CHECK(v == 12500000000.0);
  v = 7;
  CHECK_FALSE(SpeedBytes(-1, &v));
  CHECK(v == 7);
}

TEST_CASE("up is 1 only for operstate \"up\"") {
  CHECK(UpValue("up") == 1);
  CHECK(UpValue("down") == 0);
  CHECK(UpValue("unknown") == 0);  // lo and many virtual interfaces
  CHECK(UpValue("dormant") == 0);
  CHECK(UpValue("") == 0);  // file missing
  CHECK(UpValue("UP") == 0);
}

TEST_CASE("info labels: interface first, then the five attributes in order") {
  const std::string text[kInfoAttrs] = {"00:11:22:33:44:55",
                                        "ff:ff:ff:ff:ff:ff", "full", "up", ""};
  const InfoLabels l = MakeInfoLabels("eth0", text);
  const char* const names[] = {"interface", "address",   "broadcast",
                               "duplex",    "operstate", "ifalias"};
  const char* const values[] = {
      "eth0", "00:11:22:33:44:55", "ff:ff:ff:ff:ff:ff", "full", "up", ""};
  for (int i = 0; i < 1 + kInfoAttrs; ++i) {
    CAPTURE(i);
    CHECK(std::string(l.name[i]) == names[i]);
    CHECK(std::string(l.value[i]) == values[i]);
  }
}

TEST_CASE("the attributes the kernel gives only for a running interface") {
  for (const char* a : {"carrier", "dormant", "duplex", "speed"}) {
    CAPTURE(a);
    CHECK(NeedsRunning(a));
  }
  for (const char* a :
       {"operstate", "flags", "carrier_changes", "carrier_up_count", "mtu",
        "address", "name_assign_type", "ifalias", ""}) {
    CAPTURE(a);
    CHECK_FALSE(NeedsRunning(a));
  }
}

}  // namespace
}  // namespace sysmetrics::netclass
