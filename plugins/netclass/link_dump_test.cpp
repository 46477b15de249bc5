// ParseLinkDump on RTM_GETLINK dumps built here message by message, and
// LinkDump on the process' own network namespace.
#include "link_dump.hpp"

#include <doctest/doctest.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sysmetrics::netclass {
namespace {

constexpr std::uint32_t kSeq = 7;

template <typename T>
std::string Bytes(const T& v) {
  std::string s(sizeof v, '\0');
  std::memcpy(s.data(), &v, sizeof v);
  return s;
}

// One rtattr with its payload, padded to RTA_ALIGNTO.
std::string Attr(unsigned short type, std::string_view payload) {
  rtattr rta{};
  rta.rta_len = static_cast<unsigned short>(RTA_LENGTH(payload.size()));
  rta.rta_type = type;
  std::string s = Bytes(rta) + std::string(payload);
  s.resize(RTA_ALIGN(s.size()), '\0');
  return s;
}

std::string U32(std::uint32_t v) { return Bytes(v); }
std::string U8(unsigned v) { return std::string(1, static_cast<char>(v)); }
std::string Str(std::string_view s) { return std::string(s) + '\0'; }

// One netlink message with its payload, padded to NLMSG_ALIGNTO.
std::string Message(unsigned short type, std::string_view payload,
                    std::uint32_t seq = kSeq,
                    unsigned short flags = NLM_F_MULTI) {
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(payload.size()));
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  h.nlmsg_seq = seq;
  std::string s = Bytes(h) + std::string(payload);
  s.resize(NLMSG_ALIGN(s.size()), '\0');
  return s;
}

// An RTM_NEWLINK payload: ifinfomsg, then attrs.
std::string NewLink(int index, unsigned short type, unsigned flags,
                    const std::string& attrs) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  ifi.ifi_type = type;
  ifi.ifi_flags = flags;
  return Bytes(ifi) + attrs;
}

std::string Done(int error = 0) { return Message(NLMSG_DONE, Bytes(error)); }

// eth0 as this host has it: up, carrier, every attribute present.
std::string Eth0() {
  const std::string mac("\x02\xfc\x00\x00\x00\x01", 6);
  const std::string bcast(6, '\xff');
  return Message(
      RTM_NEWLINK,
      NewLink(
          4, ARPHRD_ETHER,
          IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP,
          Attr(IFLA_IFNAME, Str("eth0")) + Attr(IFLA_TXQLEN, U32(1000)) +
              Attr(IFLA_OPERSTATE, U8(IF_OPER_UP)) +
              Attr(IFLA_LINKMODE, U8(0)) + Attr(IFLA_MTU, U32(1400)) +
              Attr(IFLA_GROUP, U32(0)) + Attr(IFLA_CARRIER, U8(1)) +
              Attr(IFLA_CARRIER_CHANGES, U32(3)) +
              Attr(IFLA_CARRIER_UP_COUNT, U32(2)) +
              Attr(IFLA_CARRIER_DOWN_COUNT, U32(1)) + Attr(IFLA_ADDRESS, mac) +
              Attr(IFLA_BROADCAST, bcast) + Attr(IFLA_IFALIAS, Str("uplink")) +
              Attr(IFLA_AF_SPEC | NLA_F_NESTED, std::string(20, '\x01'))));
}

// A down dummy link with only a name: every optional attribute absent.
std::string Bare(const char* name, int index) {
  return Message(RTM_NEWLINK,
                 NewLink(index, ARPHRD_NONE, 0, Attr(IFLA_IFNAME, Str(name))));
}

TEST_CASE("ParseLinkDump reads several interfaces and NLMSG_DONE") {
  std::vector<Link> links;
  REQUIRE(ParseLinkDump(Eth0() + Bare("dummy0", 9) + Done(), kSeq, &links) ==
          DumpStatus::kDone);
  REQUIRE(links.size() == 2);
  const Link& e = links[0];
  CHECK(e.name == "eth0");
  CHECK(e.index == 4);
  CHECK(e.type == ARPHRD_ETHER);
  CHECK((e.flags & IFF_LOWER_UP) != 0);
  CHECK_FALSE(e.dormant);
  CHECK(e.address == "02:fc:00:00:00:01");
  CHECK(e.broadcast == "ff:ff:ff:ff:ff:ff");
  CHECK(e.ifalias == "uplink");
  CHECK(e.operstate == "up");
  const std::pair<Link::Field, std::int64_t> want[] = {
      {Link::kMtu, 1400},         {Link::kTxQueueLen, 1000},
      {Link::kGroup, 0},          {Link::kIflink, 4},  // IFLA_LINK absent
      {Link::kLinkMode, 0},       {Link::kCarrier, 1},
      {Link::kCarrierChanges, 3}, {Link::kCarrierUp, 2},
      {Link::kCarrierDown, 1}};
  for (const auto& w : want) {
    CAPTURE(w.first);
    CHECK(e.has[w.first]);
    CHECK(e.value[w.first] == w.second);
  }
  CHECK(links[1].name == "dummy0");
  CHECK(links[1].index == 9);
}

TEST_CASE("ParseLinkDump leaves absent attributes absent") {
  std::vector<Link> links;
  REQUIRE(ParseLinkDump(Bare("dummy0", 9) + Done(), kSeq, &links) ==
          DumpStatus::kDone);
  REQUIRE(links.size() == 1);
  const Link& l = links[0];
  CHECK(l.address.empty());  // addr_len 0: sysfs prints an empty line
  CHECK(l.broadcast.empty());
  CHECK(l.ifalias.empty());
  CHECK(l.operstate.empty());
  for (int f = 0; f < Link::kFields; ++f) {
    CAPTURE(f);
    CHECK(l.has[f] == (f == Link::kIflink));  // iflink: the own index
  }
  CHECK(l.value[Link::kIflink] == 9);
}

TEST_CASE("ParseLinkDump keeps values as sysfs prints them") {
  std::vector<Link> links;
  const std::string msg = Message(
      RTM_NEWLINK,
      NewLink(5, ARPHRD_ETHER, IFF_UP | IFF_DORMANT,
              Attr(IFLA_IFNAME, Str("veth1")) + Attr(IFLA_LINK, U32(12)) +
                  Attr(IFLA_GROUP, U32(0xffffffff)) +  // "%d": -1
                  Attr(IFLA_OPERSTATE, U8(IF_OPER_DORMANT)) +
                  Attr(IFLA_ADDRESS, std::string("\xAB\x0c", 2))));
  REQUIRE(ParseLinkDump(msg + Done(), kSeq, &links) == DumpStatus::kDone);
  REQUIRE(links.size() == 1);
  CHECK(links[0].value[Link::kIflink] == 12);
  CHECK(links[0].value[Link::kGroup] == -1);
  CHECK(links[0].operstate == "dormant");
  CHECK(links[0].dormant);
  CHECK(links[0].address == "ab:0c");

  links.clear();
  const std::string odd = Message(
      RTM_NEWLINK, NewLink(6, ARPHRD_ETHER, 0,
                           Attr(IFLA_IFNAME, Str("x")) +
                               Attr(IFLA_OPERSTATE, U8(IF_OPER_UP + 1))));
  REQUIRE(ParseLinkDump(odd + Done(), kSeq, &links) == DumpStatus::kDone);
  CHECK(links[0].operstate.empty());  // operstate_show: EINVAL
}

TEST_CASE("ParseLinkDump takes a dump in several datagrams") {
  std::vector<Link> links;
  CHECK(ParseLinkDump(Eth0(), kSeq, &links) == DumpStatus::kMore);
  CHECK(ParseLinkDump(Bare("a", 1) + Bare("b", 2), kSeq, &links) ==
        DumpStatus::kMore);
  CHECK(ParseLinkDump(Done(), kSeq, &links) == DumpStatus::kDone);
  REQUIRE(links.size() == 3);
  CHECK(links[0].name == "eth0");
  CHECK(links[2].name == "b");
  // What follows NLMSG_DONE is not read.
  links.clear();
  CHECK(ParseLinkDump(Done() + Bare("c", 3), kSeq, &links) ==
        DumpStatus::kDone);
  CHECK(links.empty());
}

// Each datagram fails before its end; without the failure it would be
// kMore, as no NLMSG_DONE follows.
TEST_CASE("ParseLinkDump fails on errors and what does not parse") {
  nlmsgerr err{};
  err.error = -EINVAL;
  const std::string eth0 = Eth0();
  const std::string garbled_attr = [] {
    std::string m = Bare("dummy0", 9);
    rtattr rta{};
    std::memcpy(&rta, m.data() + NLMSG_LENGTH(sizeof(ifinfomsg)), sizeof rta);
    rta.rta_len = 200;  // past the message
    std::memcpy(m.data() + NLMSG_LENGTH(sizeof(ifinfomsg)), &rta, sizeof rta);
    return m;
  }();
  const std::string cases[] = {
      Message(NLMSG_ERROR, Bytes(err)),
      Done(-EINVAL),                    // the dump's own error
      eth0.substr(0, eth0.size() - 8),  // message longer than the datagram
      eth0.substr(0, 10),               // not even a header
      garbled_attr,                     // attribute longer than its message
      Message(RTM_NEWLINK, "short"),    // no room for ifinfomsg
      Message(RTM_NEWLINK,
              NewLink(1, 0, 0, Attr(IFLA_MTU, U32(1)))),  // no name
      Message(RTM_NEWLINK, NewLink(1, 0, 0,
                                   Attr(IFLA_IFNAME, Str("a")) +
                                       Attr(IFLA_MTU, "\x01\x02"))),  // u16
      Message(RTM_NEWLINK, NewLink(1, 0, 0, Attr(IFLA_IFNAME, Str("a"))),
              kSeq + 1),  // another request's
      Message(RTM_NEWLINK, NewLink(1, 0, 0, Attr(IFLA_IFNAME, Str("a"))), kSeq,
              NLM_F_MULTI | NLM_F_DUMP_INTR),      // list changed
      Message(RTM_NEWADDR, NewLink(1, 0, 0, "")),  // another type
  };
  int i = 0;
  for (const std::string& c : cases) {
    CAPTURE(i++);
    std::vector<Link> links;
    CHECK(ParseLinkDump(c, kSeq, &links) == DumpStatus::kFailed);
  }
}

TEST_CASE("FormatHardwareAddress and OperstateWord print as sysfs does") {
  CHECK(FormatHardwareAddress("") == "");
  CHECK(FormatHardwareAddress(std::string(6, '\0')) == "00:00:00:00:00:00");
  CHECK(FormatHardwareAddress("\xff\x0a") == "ff:0a");
  CHECK(OperstateWord(IF_OPER_UNKNOWN) == "unknown");
  CHECK(OperstateWord(IF_OPER_NOTPRESENT) == "notpresent");
  CHECK(OperstateWord(IF_OPER_DOWN) == "down");
  CHECK(OperstateWord(IF_OPER_LOWERLAYERDOWN) == "lowerlayerdown");
  CHECK(OperstateWord(IF_OPER_TESTING) == "testing");
  CHECK(OperstateWord(IF_OPER_DORMANT) == "dormant");
  CHECK(OperstateWord(IF_OPER_UP) == "up");
  CHECK(OperstateWord(IF_OPER_UP + 1) == "");
}

TEST_CASE("LinkDump reads this network namespace, again and again") {
  LinkDump dump;
  std::vector<Link> links;
  if (!dump.Read(&links)) {
    MESSAGE("no NETLINK_ROUTE socket here; LinkDump not exercised");
    return;
  }
  for (int round = 0; round < 3; ++round) {
    REQUIRE(dump.Read(&links));
    bool lo = false;
    for (const Link& l : links) {
      if (l.name != "lo") continue;
      lo = true;
      CHECK(l.type == ARPHRD_LOOPBACK);
      CHECK(l.address == "00:00:00:00:00:00");
    }
    CHECK(lo);
  }
}

}  // namespace
}  // namespace sysmetrics::netclass
