#include "link_dump.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

namespace sysmetrics::netclass {
namespace {

// The most a datagram of a dump holds: netlink_dump fills at most 32 KiB
// when the reader's buffer is that large (netlink_recvmsg).
constexpr std::size_t kDatagramBytes = 32768;

template <typename T>
T Load(std::string_view bytes) {
  T v{};
  std::memcpy(&v, bytes.data(), sizeof v);
  return v;
}

// A u32 attribute that sysfs prints with "%d".
bool LoadSigned32(std::string_view payload, std::int64_t* out) {
  if (payload.size() < sizeof(std::uint32_t)) return false;
  *out = static_cast<std::int32_t>(Load<std::uint32_t>(payload));
  return true;
}

bool LoadU8(std::string_view payload, std::int64_t* out) {
  if (payload.empty()) return false;
  *out = static_cast<unsigned char>(payload[0]);
  return true;
}

// The text of a NUL-terminated string attribute (up to the first NUL).
std::string_view CString(std::string_view payload) {
  return payload.substr(0, payload.find('\0'));
}

// Stores one IFLA_* attribute of *link. Returns false when its payload has
// the wrong size; attributes of other types are ignored.
bool StoreAttribute(unsigned type, std::string_view payload, Link* link) {
  std::int64_t* v = link->value;
  bool* has = link->has;
  switch (type) {
    case IFLA_IFNAME:
      link->name.assign(CString(payload));
      return !link->name.empty();
    case IFLA_ADDRESS:
      link->address = FormatHardwareAddress(payload);
      return true;
    case IFLA_BROADCAST:
      link->broadcast = FormatHardwareAddress(payload);
      return true;
    case IFLA_IFALIAS:
      link->ifalias.assign(CString(payload));
      return true;
    case IFLA_OPERSTATE: {
      std::int64_t s = 0;
      if (!LoadU8(payload, &s)) return false;
      link->operstate.assign(OperstateWord(static_cast<unsigned>(s)));
      return true;
    }
    case IFLA_MTU:
      return has[Link::kMtu] = LoadSigned32(payload, &v[Link::kMtu]);
    case IFLA_TXQLEN:
      return has[Link::kTxQueueLen] =
                 LoadSigned32(payload, &v[Link::kTxQueueLen]);
    case IFLA_GROUP:
      return has[Link::kGroup] = LoadSigned32(payload, &v[Link::kGroup]);
    case IFLA_LINK:
      return has[Link::kIflink] = LoadSigned32(payload, &v[Link::kIflink]);
    case IFLA_LINKMODE:
      return has[Link::kLinkMode] = LoadU8(payload, &v[Link::kLinkMode]);
    case IFLA_CARRIER:
      return has[Link::kCarrier] = LoadU8(payload, &v[Link::kCarrier]);
    case IFLA_CARRIER_CHANGES:
      return has[Link::kCarrierChanges] =
                 LoadSigned32(payload, &v[Link::kCarrierChanges]);
    case IFLA_CARRIER_UP_COUNT:
      return has[Link::kCarrierUp] =
                 LoadSigned32(payload, &v[Link::kCarrierUp]);
    case IFLA_CARRIER_DOWN_COUNT:
      return has[Link::kCarrierDown] =
                 LoadSigned32(payload, &v[Link::kCarrierDown]);
    default:
      return true;
  }
}

// Parses the payload of one RTM_NEWLINK message into *link.
bool ParseLink(std::string_view payload, Link* link) {
  if (payload.size() < sizeof(ifinfomsg)) return false;
  const auto ifi = Load<ifinfomsg>(payload);
  link->index = ifi.ifi_index;
  link->type = ifi.ifi_type;
  link->flags = ifi.ifi_flags;
  link->dormant = (ifi.ifi_flags & IFF_DORMANT) != 0;
  std::string_view rest = payload.substr(
      std::min<std::size_t>(NLMSG_ALIGN(sizeof(ifinfomsg)), payload.size()));
  while (!rest.empty()) {
    if (rest.size() < sizeof(rtattr)) return false;
    const auto rta = Load<rtattr>(rest);
    if (rta.rta_len < sizeof(rtattr) || rta.rta_len > rest.size()) {
      return false;
    }
    const std::string_view attr_payload =
        rest.substr(RTA_ALIGN(sizeof(rtattr)), rta.rta_len - sizeof(rtattr));
    if (!StoreAttribute(rta.rta_type & NLA_TYPE_MASK, attr_payload, link)) {
      return false;
    }
    rest.remove_prefix(
        std::min<std::size_t>(RTA_ALIGN(rta.rta_len), rest.size()));
  }
  if (!link->has[Link::kIflink]) {
    link->value[Link::kIflink] = link->index;
    link->has[Link::kIflink] = true;
  }
  return !link->name.empty();
}

// What one message of a dump means, its header already checked.
DumpStatus ParseMessage(const nlmsghdr& h, std::string_view payload,
                        std::vector<Link>* links) {
  switch (h.nlmsg_type) {
    case NLMSG_NOOP:
      return DumpStatus::kMore;
    case NLMSG_DONE:  // may carry the dump's error (an int)
      if (payload.size() >= sizeof(int) && Load<int>(payload) < 0) {
        return DumpStatus::kFailed;
      }
      return DumpStatus::kDone;
    case RTM_NEWLINK:
      links->emplace_back();
      return ParseLink(payload, &links->back()) ? DumpStatus::kMore
                                                : DumpStatus::kFailed;
    default:  // NLMSG_ERROR, NLMSG_OVERRUN, anything unexpected
      return DumpStatus::kFailed;
  }
}

}  // namespace

DumpStatus ParseLinkDump(std::string_view datagram, std::uint32_t seq,
                         std::vector<Link>* links) {
  while (!datagram.empty()) {
    if (datagram.size() < sizeof(nlmsghdr)) return DumpStatus::kFailed;
    const auto h = Load<nlmsghdr>(datagram);
    if (h.nlmsg_len < NLMSG_ALIGN(sizeof(nlmsghdr)) ||
        h.nlmsg_len > datagram.size() || h.nlmsg_seq != seq ||
        (h.nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
      return DumpStatus::kFailed;
    }
    const std::string_view payload =
        datagram.substr(NLMSG_ALIGN(sizeof(nlmsghdr)),
                        h.nlmsg_len - NLMSG_ALIGN(sizeof(nlmsghdr)));
    const DumpStatus status = ParseMessage(h, payload, links);
    if (status != DumpStatus::kMore) return status;
    datagram.remove_prefix(
        std::min<std::size_t>(NLMSG_ALIGN(h.nlmsg_len), datagram.size()));
  }
  return DumpStatus::kMore;
}

std::string FormatHardwareAddress(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size() * 3);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (!text.empty()) text += ':';
    text += kHex[b >> 4];
    text += kHex[b & 0xf];
  }
  return text;
}

std::string_view OperstateWord(unsigned state) {
  // net/core/net-sysfs.c: operstates[], indexed by IF_OPER_*.
  static constexpr std::string_view kWords[] = {
      "unknown", "notpresent", "down", "lowerlayerdown",
      "testing", "dormant",    "up"};
  return state < std::size(kWords) ? kWords[state] : std::string_view();
}

LinkDump::~LinkDump() { Close(); }

bool LinkDump::Read(std::vector<Link>* links) {
  links->clear();
  if (!Open() || !Request()) return false;
  char* const buf = reinterpret_cast<char*>(buf_.data());
  for (;;) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    const ssize_t got =
        ::recvfrom(fd_, buf, kDatagramBytes, MSG_DONTWAIT | MSG_TRUNC,
                   reinterpret_cast<sockaddr*>(&from), &from_len);
    if (got <= 0 || static_cast<std::size_t>(got) > kDatagramBytes ||
        from.nl_pid != 0) {
      break;  // error, would block, truncated, or not from the kernel
    }
    const DumpStatus status = ParseLinkDump(
        std::string_view(buf, static_cast<std::size_t>(got)), seq_, links);
    if (status == DumpStatus::kDone) return true;
    if (status == DumpStatus::kFailed) break;
  }
  Close();
  return false;
}

// Makes the socket unless it is open or refused for good.
bool LinkDump::Open() {
  if (fd_ >= 0) return true;
  if (refused_) return false;
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ < 0) {
    refused_ = errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
               errno != ENOMEM;
    return false;
  }
  buf_.resize(kDatagramBytes / sizeof(std::uint64_t));
  return true;
}

// Sends RTM_GETLINK with NLM_F_DUMP for every interface, without the
// statistics (RTEXT_FILTER_SKIP_STATS: nothing here needs them, and they
// are most of each message).
bool LinkDump::Request() {
  struct {
    nlmsghdr h;
    ifinfomsg ifi;
    rtattr ext_mask;
    std::uint32_t mask;
  } req{};
  static_assert(sizeof req == NLMSG_LENGTH(sizeof(ifinfomsg)) +
                                  RTA_LENGTH(sizeof(std::uint32_t)));
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = ++seq_;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ext_mask.rta_len = RTA_LENGTH(sizeof(std::uint32_t));
  req.ext_mask.rta_type = IFLA_EXT_MASK;
  req.mask = RTEXT_FILTER_SKIP_STATS;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  const ssize_t sent =
      ::sendto(fd_, &req, sizeof req, MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
  if (sent == static_cast<ssize_t>(sizeof req)) return true;
  Close();
  return false;
}

void LinkDump::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace sysmetrics::netclass
