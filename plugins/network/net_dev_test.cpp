#include "net_dev.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace sysmetrics::network {
namespace {

constexpr std::string_view kFile = "/proc/net/dev";
constexpr std::string_view kHeader =
    "Inter-|   Receive                                                |  "
    "Transmit\n face |bytes    packets errs drop fifo frame compressed "
    "multicast|bytes    packets errs drop fifo colls carrier compressed\n";

TEST_CASE("the fixture: dots, hyphens, 15-character names, glued counters") {
  std::ifstream in(SYSMETRICS_SOURCE_DIR
                   "/plugins/network/testdata/procfs/net/dev");
  std::stringstream text;
  text << in.rdbuf();
  // The results hold views into the text: it must outlive them.
  const std::string data = text.str();
  NetDev dev;
  std::string err;
  REQUIRE(ParseNetDev(data, kFile, &dev, &err));
  REQUIRE(dev.interfaces.size() == 6);
  CHECK(dev.interfaces[0].name == "lo");
  CHECK(dev.interfaces[1].name == "eth0");
  CHECK(dev.interfaces[1].v[0] == 98765432);
  CHECK(dev.interfaces[1].v[15] == 12);
  CHECK(dev.interfaces[2].name == "eth0.100");
  CHECK(dev.interfaces[3].name == "br-7f3a9c2e1d4b");  // 15 characters
  CHECK(dev.interfaces[3].v[8] == 600);
  CHECK(dev.interfaces[4].name == "wg0");
  CHECK(dev.interfaces[4].v[0] == 98765432101234ULL);  // glued to the colon
  CHECK(dev.interfaces[4].v[8] == 18446744073709551615ULL);
}

TEST_CASE("a 15-character name glued to a wide counter") {
  NetDev dev;
  std::string err;
  // Kept alive: the interface names are views into it.
  const std::string text = std::string(kHeader) +
                           "br-7f3a9c2e1d4b:12345678901 1 2 3 4 5 6 7 8 9 10 "
                           "11 12 13 14 15\n";
  REQUIRE(ParseNetDev(text, kFile, &dev, &err));
  CHECK(dev.interfaces[0].name == "br-7f3a9c2e1d4b");
  CHECK(dev.interfaces[0].v[0] == 12345678901ULL);
  CHECK(dev.interfaces[0].v[15] == 15);
}

TEST_CASE("malformed lines fail with file, line and problem") {
  NetDev dev;
  std::string err;
  const std::string h(kHeader);
  CHECK_FALSE(ParseNetDev(h + "eth0: 1 2 3\n", kFile, &dev, &err));
  CHECK(err == "/proc/net/dev:3: eth0 has 3 counters, want 16");
  CHECK_FALSE(ParseNetDev(h + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x16\n",
                          kFile, &dev, &err));
  CHECK(err == "/proc/net/dev:3: eth0 counter 16 'x16' is not a number");
  CHECK_FALSE(ParseNetDev(h + "eth0 1 2 3\n", kFile, &dev, &err));
  CHECK(err == "/proc/net/dev:3: no ':' after the interface name");
  CHECK_FALSE(ParseNetDev("eth0: 1\n", kFile, &dev, &err));
  CHECK(err == "/proc/net/dev:1: first header line missing");
  CHECK_FALSE(ParseNetDev("", kFile, &dev, &err));
  CHECK(err == "/proc/net/dev: header lines missing");
  // Truncated mid-line.
  CHECK_FALSE(ParseNetDev(h + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                              "eth1: 1 2",
                          kFile, &dev, &err));
  CHECK(err == "/proc/net/dev:4: eth1 has 2 counters, want 16");
  CHECK_FALSE(
      ParseNetDev(h + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
                  kFile, &dev, &err));
  CHECK(err == "/proc/net/dev:3: eth0 has more than 16 counters");
}

TEST_CASE("only headers: no interfaces, no error") {
  NetDev dev;
  std::string err;
  REQUIRE(ParseNetDev(kHeader, kFile, &dev, &err));
  CHECK(dev.interfaces.empty());
}

}  // namespace
}  // namespace sysmetrics::network
