// The interfaces of the process' network namespace from one rtnetlink
// RTM_GETLINK dump, holding most of what <sysfs>/class/net/<iface>/ has.
//
// Reading them from sysfs costs a read(2) per attribute and interface; the
// dump gives them for every interface in a few recv(2)s. Each value is kept
// as the sysfs attribute would show it (net/core/net-sysfs.c), so that the
// collector's output does not depend on where a value came from:
//   - numbers that sysfs prints with "%d" (mtu, tx_queue_len, netdev_group,
//     iflink, the carrier counters) are the u32 of the message read as a
//     signed 32-bit value;
//   - address and broadcast are "%*phC": lowercase hex pairs joined by ':';
//   - operstate is the word sysfs prints (already "down" when the interface
//     is not running, in both: rtnl_fill_ifinfo and operstate_show);
//   - iflink is ifindex when IFLA_LINK is absent (nla_put_iflink leaves it
//     out when dev_get_iflink() is the interface's own index).
// Not here, as the dump does not carry them or carries something else:
// flags (sysfs prints dev->flags, ifi_flags is dev_get_flags()),
// addr_assign_type, name_assign_type, dev_id, speed and duplex.
//
// ParseLinkDump is a pure function; LinkDump owns a socket: one owner at a
// time, not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sysmetrics::netclass {

// One RTM_NEWLINK message of a dump.
struct Link {
  // The values the message may lack; has[k] says whether value[k] is set.
  enum Field {
    kMtu,             // IFLA_MTU
    kTxQueueLen,      // IFLA_TXQLEN
    kGroup,           // IFLA_GROUP (netdev_group)
    kIflink,          // IFLA_LINK, or ifindex when absent
    kLinkMode,        // IFLA_LINKMODE
    kCarrier,         // IFLA_CARRIER (sysfs: only while running)
    kCarrierChanges,  // IFLA_CARRIER_CHANGES
    kCarrierUp,       // IFLA_CARRIER_UP_COUNT
    kCarrierDown,     // IFLA_CARRIER_DOWN_COUNT
    kFields,
  };

  std::string name;         // IFLA_IFNAME
  std::int32_t index = 0;   // ifi_index (sysfs ifindex)
  std::uint16_t type = 0;   // ifi_type (sysfs type)
  std::uint32_t flags = 0;  // ifi_flags: dev_get_flags(), not sysfs flags
  bool dormant = false;     // IFF_DORMANT in ifi_flags: sysfs dormant (set
                            // only while running, as dormant_show answers)
  std::string address;      // "" when IFLA_ADDRESS is absent (addr_len 0)
  std::string broadcast;    // likewise
  std::string ifalias;      // "" when IFLA_IFALIAS is absent
  std::string operstate;    // "" when IFLA_OPERSTATE is absent or unknown
  std::int64_t value[kFields] = {};
  bool has[kFields] = {};
};

enum class DumpStatus {
  kMore,    // every message parsed; the dump goes on in the next datagram
  kDone,    // NLMSG_DONE reached
  kFailed,  // anything else: the dump is not to be used
};

// Parses one datagram of an RTM_GETLINK dump whose request had sequence
// number seq, appending a Link per RTM_NEWLINK message to *links. kFailed
// for: a message or attribute whose length does not fit, another sequence
// number, NLM_F_DUMP_INTR (the list changed during the dump), NLMSG_ERROR,
// NLMSG_DONE with a negative error, a message of another type, and an
// RTM_NEWLINK without a name or with an attribute of the wrong size. What
// follows NLMSG_DONE is ignored. *links may have been appended to on
// kFailed.
DumpStatus ParseLinkDump(std::string_view datagram, std::uint32_t seq,
                         std::vector<Link>* links);

// The sysfs text of a hardware address: "%*phC".
std::string FormatHardwareAddress(std::string_view bytes);

// The sysfs word of an IF_OPER_* state, or "" for a value past IF_OPER_UP
// (operstate_show then fails with EINVAL).
std::string_view OperstateWord(unsigned state);

// A NETLINK_ROUTE socket, kept open between dumps.
class LinkDump {
 public:
  LinkDump() = default;
  ~LinkDump();
  LinkDump(const LinkDump&) = delete;
  LinkDump& operator=(const LinkDump&) = delete;

  // Replaces *links with the interfaces of one complete dump, in the
  // kernel's order. Returns false on any failure (then *links is
  // unspecified): the socket cannot be made (refused for good unless the
  // error is a shortage such as EMFILE: no later call tries again), a send
  // or recv fails or would block, a datagram is truncated or not from the
  // kernel, or ParseLinkDump fails. After a failure the socket is closed,
  // so nothing of that dump is read by the next call. Never blocks: the
  // kernel queues each part of a dump before the call that asks for it
  // returns (netlink_dump runs in sendmsg and recvmsg).
  bool Read(std::vector<Link>* links);

 private:
  bool Open();
  bool Request();
  void Close();

  int fd_ = -1;
  bool refused_ = false;
  std::uint32_t seq_ = 0;
  std::vector<std::uint64_t> buf_;  // 8-byte aligned datagram buffer
};

}  // namespace sysmetrics::netclass
