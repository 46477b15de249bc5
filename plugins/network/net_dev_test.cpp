#include "net_dev.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// The line numbers of out.skipped, in order.
std::vector<std::size_t> Lines(const NetDev& dev) {
  std::vector<std::size_t> lines;
  for (const plugin::SkippedLine& s : dev.skipped) lines.push_back(s.line);
  return lines;
}

constexpr std::string_view kCountersText =
    " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";

TEST_CASE("one bad line costs that interface only") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"eth1: 1 2 3", "eth1: 3 counters, want at least 16"},
      {"eth1:", "eth1: 0 counters, want at least 16"},
      {"eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x16",
       "eth1: counter 16 'x16' is not a number"},
      {"eth1: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
       "eth1: counter 1 '-1' is not a number"},
      {"eth1: 1 2 3 4 5 6 7 8 18446744073709551616 10 11 12 13 14 15 16",
       "eth1: counter 9 '18446744073709551616' is not a number"},
      {"eth1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
       "no ':' after an interface name"},
      {"   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "empty interface name"},
      {": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "empty interface name"},
      {"  eth0: 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9", "eth0 repeats line 3"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text =
        std::string(kHeader) + "  eth0:" + std::string(kCountersText) + "\n" +
        c.line + "\n    lo:" + std::string(kCountersText) + "\n";
    NetDev dev;
    std::string err;
    REQUIRE(ParseNetDev(text, kFile, &dev, &err));
    REQUIRE(dev.interfaces.size() == 2);
    CHECK(dev.interfaces[0].name == "eth0");
    CHECK(dev.interfaces[0].line == 3);
    CHECK(dev.interfaces[0].v[0] == 1);  // the first eth0's values
    CHECK(dev.interfaces[0].v[15] == 16);
    CHECK(dev.interfaces[1].name == "lo");
    CHECK(dev.interfaces[1].line == 5);
    CHECK(dev.interfaces[1].v[15] == 16);
    REQUIRE(dev.skipped.size() == 1);
    CHECK(dev.skipped[0].line == 4);
    CHECK(dev.skipped[0].reason == c.reason);
  }
}

TEST_CASE("a later kernel's extra fields are not read, numbers or not") {
  NetDev dev;
  std::string err;
  const std::string text =
      std::string(kHeader) +
      "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n"
      "  eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 x -1 1.5\n";
  REQUIRE(ParseNetDev(text, kFile, &dev, &err));
  CHECK(dev.skipped.empty());
  REQUIRE(dev.interfaces.size() == 2);
  CHECK(dev.interfaces[0].v[15] == 16);
  CHECK(dev.interfaces[1].v[15] == 16);
}

TEST_CASE("names are split at the last ':' and kept as printed") {
  // Old kernels listed IP aliases ("eth0:1"); names may hold '.', '-', '@'
  // and non-ASCII bytes; a wide counter follows the colon directly.
  const std::string_view names[] = {
      "eth0:1",    "eth0:1:2",        "eth0.100", "br-7f3a9c2e1d4b",
      "veth0@if3", "wlp3s0-\xc3\xa9", "a b",      "\xff"};
  std::string text(kHeader);
  for (const std::string_view n : names) {
    text += "  " + std::string(n) + ":12345678901234" +
            " 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
  }
  NetDev dev;
  std::string err;
  REQUIRE(ParseNetDev(text, kFile, &dev, &err));
  CHECK(dev.skipped.empty());
  REQUIRE(dev.interfaces.size() == std::size(names));
  for (std::size_t i = 0; i < std::size(names); ++i) {
    CHECK(dev.interfaces[i].name == names[i]);
    CHECK(dev.interfaces[i].v[0] == 12345678901234ULL);
    CHECK(dev.interfaces[i].v[1] == 2);
  }
}

TEST_CASE("headers are lines 1 and 2 with a '|'; blank lines are ignored") {
  NetDev dev;
  std::string err;
  // No headers at all: every line is an interface line.
  const std::string bare = "lo:" + std::string(kCountersText) + "\n";
  REQUIRE(ParseNetDev(bare, kFile, &dev, &err));
  CHECK(dev.interfaces.size() == 1);
  CHECK(dev.skipped.empty());
  // A '|' after line 2 makes no header.
  const std::string text = std::string(kHeader) + "\n \t\n" +
                           "garbage | here\n" +
                           "eth0:" + std::string(kCountersText) + "\n\n";
  REQUIRE(ParseNetDev(text, kFile, &dev, &err));
  REQUIRE(dev.interfaces.size() == 1);
  CHECK(dev.interfaces[0].line == 6);
  CHECK(Lines(dev) == std::vector<std::size_t>{5});
  CHECK(dev.skipped[0].reason == "no ':' after an interface name");
}

TEST_CASE("repeats among a thousand interfaces: the earlier line stays") {
  std::string text(kHeader);
  for (int i = 0; i < 1000; ++i) {
    text += "  eth" + std::to_string(i) + ": " + std::to_string(i) +
            " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
  }
  text += "eth7: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
  text += "eth999:" + std::string(kCountersText) + "\n";
  text += "eth1000: 1000 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
  NetDev dev;
  std::string err;
  for (int round = 0; round < 2; ++round) {  // the second reuses the table
    REQUIRE(ParseNetDev(text, kFile, &dev, &err));
    REQUIRE(dev.interfaces.size() == 1001);
    for (int i = 0; i < 1001; ++i) {
      CHECK(dev.interfaces[i].v[0] == static_cast<std::uint64_t>(i));
    }
    CHECK(Lines(dev) == std::vector<std::size_t>{1003, 1004});
    CHECK(dev.skipped[0].reason == "eth7 repeats line 10");
    CHECK(dev.skipped[1].reason == "eth999 repeats line 1002");
  }
}

TEST_CASE("truncated mid-line: the last line is short, never a wrong number") {
  NetDev dev;
  std::string err;
  const std::string text = std::string(kHeader) +
                           "eth0:" + std::string(kCountersText) + "\neth1: 1 2";
  REQUIRE(ParseNetDev(text, kFile, &dev, &err));
  REQUIRE(dev.interfaces.size() == 1);
  CHECK(Lines(dev) == std::vector<std::size_t>{4});
  CHECK(dev.skipped[0].reason == "eth1: 2 counters, want at least 16");
}

TEST_CASE("nothing usable fails with the file and no line number") {
  const std::string kNone = "/proc/net/dev: no interface line could be read";
  NetDev dev;
  std::string err;
  CHECK_FALSE(ParseNetDev("", kFile, &dev, &err));
  CHECK(err == kNone);
  CHECK(dev.skipped.empty());
  CHECK_FALSE(ParseNetDev(kHeader, kFile, &dev, &err));
  CHECK(err == kNone);
  CHECK(dev.skipped.empty());
  err.clear();
  CHECK_FALSE(
      ParseNetDev("\x7f"
                  "ELF\n\xff\xfe: x\n",
                  kFile, &dev, &err));
  CHECK(err == kNone);
  CHECK(dev.interfaces.empty());
  CHECK(Lines(dev) == std::vector<std::size_t>{1, 2});
  CHECK(dev.skipped[0].reason == "no ':' after an interface name");
  CHECK(dev.skipped[1].reason == "\xff\xfe: 1 counters, want at least 16");
}

TEST_CASE("a parse replaces the previous result") {
  NetDev dev;
  std::string err;
  const std::string first = std::string(kHeader) +
                            "a:" + std::string(kCountersText) +
                            "\na:" + std::string(kCountersText) + "\n";
  REQUIRE(ParseNetDev(first, kFile, &dev, &err));
  REQUIRE(dev.skipped.size() == 1);
  // Kept alive: the interface names are views into it.
  const std::string second = std::string(kHeader) +
                             "b:" + std::string(kCountersText) +
                             "\na:" + std::string(kCountersText) + "\n";
  REQUIRE(ParseNetDev(second, kFile, &dev, &err));
  REQUIRE(dev.interfaces.size() == 2);
  CHECK(dev.interfaces[0].name == "b");
  CHECK(dev.interfaces[1].name == "a");
  CHECK(dev.skipped.empty());
}

}  // namespace
}  // namespace sysmetrics::network
