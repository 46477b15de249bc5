// netclass.so: per-interface attributes from <sysfs>/class/net, as
// node_exporter 1.5's netclass collector exports them.
#include <net/if.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <sysmetrics/plugin.hpp>
#include <system_error>
#include <vector>

#include "attribute_files.hpp"
#include "collect.hpp"
#include "link_dump.hpp"
#include "net_class.hpp"
#include "text.hpp"

namespace sysmetrics::netclass {
namespace {

const sm_option kOptions[] = {
    StringOption("exclude_pattern", "^$",
                 "Interfaces whose name matches this regular expression "
                 "(ECMAScript) are skipped."),
};

// Where a numeric attribute comes from when a link dump is used
// (kDumpSource): a Link::Field, or one of these.
enum : int {
  kSysfsOnly = -1,    // not in the dump: read from sysfs
  kDumpIndex = -2,    // Link::index
  kDumpType = -3,     // Link::type
  kDumpDormant = -4,  // Link::dormant
};

struct Metric {
  const char* file;  // in the interface's directory
  const char* name;
  const char* help;
  sm_metric_type type;
  const char* unit;
};

// The numeric attributes, in the order their families are emitted.
constexpr Metric kMetrics[] = {
    {"addr_assign_type", "sysmetrics_network_address_assign_type",
     "How the address was assigned (addr_assign_type).", SM_METRIC_GAUGE,
     nullptr},
    {"carrier", "sysmetrics_network_carrier",
     "1 if the physical link is up (carrier).", SM_METRIC_GAUGE, nullptr},
    {"carrier_changes", "sysmetrics_network_carrier_changes_total",
     "Carrier changes (carrier_changes).", SM_METRIC_COUNTER, nullptr},
    {"carrier_up_count", "sysmetrics_network_carrier_up_changes_total",
     "Carrier changes to up (carrier_up_count).", SM_METRIC_COUNTER, nullptr},
    {"carrier_down_count", "sysmetrics_network_carrier_down_changes_total",
     "Carrier changes to down (carrier_down_count).", SM_METRIC_COUNTER,
     nullptr},
    {"dev_id", "sysmetrics_network_device_id",
     "Device id among those sharing a link address (dev_id).", SM_METRIC_GAUGE,
     nullptr},
    {"dormant", "sysmetrics_network_dormant",
     "1 if the interface is dormant (dormant).", SM_METRIC_GAUGE, nullptr},
    {"flags", "sysmetrics_network_flags",
     "Interface flags, IFF_* bits (flags).", SM_METRIC_GAUGE, nullptr},
    {"ifindex", "sysmetrics_network_iface_id", "Interface index (ifindex).",
     SM_METRIC_GAUGE, nullptr},
    {"iflink", "sysmetrics_network_iface_link",
     "Index of the interface this one is linked to (iflink).", SM_METRIC_GAUGE,
     nullptr},
    {"link_mode", "sysmetrics_network_iface_link_mode",
     "Link mode (link_mode).", SM_METRIC_GAUGE, nullptr},
    {"mtu", "sysmetrics_network_mtu_bytes", "Maximum transmission unit (mtu).",
     SM_METRIC_GAUGE, "bytes"},
    {"name_assign_type", "sysmetrics_network_name_assign_type",
     "How the name was assigned (name_assign_type).", SM_METRIC_GAUGE, nullptr},
    {"netdev_group", "sysmetrics_network_net_dev_group",
     "Interface group (netdev_group).", SM_METRIC_GAUGE, nullptr},
    {"speed", "sysmetrics_network_speed_bytes",
     "Link speed in bytes per second (speed, Mbit/s x 125000); absent when "
     "unknown.",
     SM_METRIC_GAUGE, "bytes"},
    {"tx_queue_len", "sysmetrics_network_transmit_queue_length",
     "Transmit queue length (tx_queue_len).", SM_METRIC_GAUGE, nullptr},
    {"type", "sysmetrics_network_protocol_type",
     "Hardware protocol, ARPHRD_* (type).", SM_METRIC_GAUGE, nullptr},
};
constexpr int kNumeric = sizeof kMetrics / sizeof kMetrics[0];

// kDumpSource[i]: where kMetrics[i] comes from when a link dump is used.
constexpr int kDumpSource[] = {
    kSysfsOnly,             // addr_assign_type
    Link::kCarrier,         // carrier
    Link::kCarrierChanges,  // carrier_changes
    Link::kCarrierUp,       // carrier_up_count
    Link::kCarrierDown,     // carrier_down_count
    kSysfsOnly,             // dev_id
    kDumpDormant,           // dormant
    kSysfsOnly,             // flags: dev->flags, not ifi_flags
    kDumpIndex,             // ifindex
    Link::kIflink,          // iflink
    Link::kLinkMode,        // link_mode
    Link::kMtu,             // mtu
    kSysfsOnly,             // name_assign_type
    Link::kGroup,           // netdev_group
    kSysfsOnly,             // speed
    Link::kTxQueueLen,      // tx_queue_len
    kDumpType,              // type
};
static_assert(std::size(kDumpSource) == std::size(kMetrics));
constexpr int kFlags = 7;
constexpr int kIfindex = 8;
constexpr int kSpeed = 14;
static_assert(std::string_view(kMetrics[kFlags].file) == "flags");
static_assert(std::string_view(kMetrics[kIfindex].file) == "ifindex");
static_assert(std::string_view(kMetrics[kSpeed].file) == "speed");

// One interface's attributes as the last collect read them. Kept from
// collect to collect, so the strings keep their capacity.
struct Interface {
  const char* name = nullptr;  // the NameFilter's copy, valid for a collect
  std::string text[kInfoAttrs];
  std::int64_t value[kNumeric] = {};
  bool has[kNumeric] = {};
};

// Errors that mean "this interface has no such attribute", which node's
// procfs library ignores: a missing file, no permission, and what drivers
// answer for a value they cannot give (EINVAL: speed, carrier or duplex of
// an interface that is down; EOPNOTSUPP). A symbolic link or directory in
// an attribute's place (ELOOP, EISDIR) is not read by node either.
bool IsAbsent(int err) {
  return err == ENOENT || err == EACCES || err == EPERM || err == EINVAL ||
         err == EOPNOTSUPP || err == ELOOP || err == EISDIR;
}

// The attribute files read in each interface's directory: the text ones
// (kInfoFiles), then the numeric ones (kMetrics).
std::vector<const char*> AttributeNames() {
  std::vector<const char*> files(std::begin(kInfoFiles), std::end(kInfoFiles));
  for (const Metric& m : kMetrics) files.push_back(m.file);
  return files;
}

// The most descriptors netclass keeps open between collects: a quarter of
// the soft limit (the host raises it to 4,096, so 1,024: the 22 files of
// 46 interfaces), leaving the rest to connections and other collectors.
// Interfaces past it are opened on each collect.
std::size_t MaxHeldFds() {
  rlimit fds{};
  if (::getrlimit(RLIMIT_NOFILE, &fds) != 0 || fds.rlim_cur == RLIM_INFINITY) {
    return 1024;
  }
  return std::min<rlim_t>(fds.rlim_cur / 4, 4096);
}

// How one attribute read went.
enum class Got { kValue, kAbsent, kGone };

// Numeric attribute i as the dump has it, as sysfs would print it. False
// when the dump does not carry it (then sysfs is read).
bool DumpNumber(const Link& link, int i, std::int64_t* out) {
  const int d = kDumpSource[i];
  switch (d) {
    case kSysfsOnly:
      return false;
    case kDumpIndex:
      *out = link.index;
      return true;
    case kDumpType:
      *out = link.type;
      return true;
    case kDumpDormant:
      *out = link.dormant ? 1 : 0;
      return true;
    default:
      if (!link.has[d]) return false;
      *out = link.value[d];
      return true;
  }
}

// Text attribute i (InfoAttr) as the dump has it, trimmed as a sysfs value
// is. False when the dump does not carry it (duplex; an operstate missing
// or past IF_OPER_UP): then sysfs is read.
bool DumpText(const Link& link, int i, std::string_view* out) {
  switch (i) {
    case kAddress:
      *out = link.address;
      return true;
    case kBroadcast:
      *out = link.broadcast;
      return true;
    case kOperstate:
      *out = link.operstate;
      return !out->empty();
    case kIfalias:
      *out = TrimSpace(link.ifalias);
      return true;
    default:
      return false;
  }
}

// Whether link (from the dump) is the interface whose sysfs flags and
// ifindex *sysfs holds: same index, same IFF_UP. Another index means the
// dump comes from another network namespace than sysfs shows, or the name
// went to another interface between the two reads.
bool SameInterface(const Link& link, const Interface& sysfs) {
  return sysfs.has[kFlags] && sysfs.has[kIfindex] &&
         sysfs.value[kIfindex] == link.index &&
         ((static_cast<std::uint64_t>(sysfs.value[kFlags]) ^ link.flags) &
          IFF_UP) == 0;
}

class NetClassCollector {
 public:
  explicit NetClassCollector(Host& host)
      : dir_(host.SysfsRoot() + "/class/net"),
        real_sysfs_(host.SysfsRoot() == "/sys"),
        filter_(plugin::ExcludeFilter(host)),
        files_(dir_, AttributeNames(), AttributeFiles::Keep::kOnSysfs,
               MaxHeldFds()) {}

  void Collect(Emitter& emit) {
    if (const int err = files_.List(); err != 0) {
      throw Error(dir_ + ": " + ErrnoText(err), SM_ERR_IO);
    }
    const bool dump = UseDump();
    filter_.BeginCollect();
    std::size_t n = 0;
    for (std::size_t e = 0; e < files_.size(); ++e) {
      const char* label = filter_.Include(files_.name(e));
      if (label == nullptr) continue;
      if (ifaces_.size() <= n) ifaces_.emplace_back();
      const Link* link = dump ? &links_[e] : nullptr;
      if (ReadInterface(e, label, link, &ifaces_[n], emit)) ++n;
    }
    Emit(n, emit);
  }

 private:
  // Whether this collect takes what it can from an RTM_GETLINK dump
  // (link_dump.hpp): only on the real /sys (a fixture tree, or another
  // sysfs root, is the sysfs path's alone), and only when the dump names
  // exactly the interfaces of the listing. Then links_[e] is the dump's
  // message of listing entry e. Any failure: false, and the collect reads
  // sysfs as without a dump.
  bool UseDump() {
    if (!real_sysfs_ || !files_.on_sysfs() || !dump_.Read(&links_) ||
        links_.size() != files_.size()) {
      return false;
    }
    std::sort(links_.begin(), links_.end(),
              [](const Link& a, const Link& b) { return a.name < b.name; });
    for (std::size_t e = 0; e < links_.size(); ++e) {
      if (links_[e].name != files_.name(e)) return false;
    }
    return true;
  }

  // Reads the attributes of entry e of the listing into *out: from sysfs,
  // or, for those the dump carries, from link (its message in a dump; null
  // without one). Returns false when the interface is gone (removed since
  // the listing: costs nothing) or its directory cannot be opened
  // (reported as a skipped line).
  bool ReadInterface(std::size_t e, const char* label, const Link* link,
                     Interface* out, Emitter& emit) {
    if (const int err = files_.Open(e); err != 0) {
      if (err != ENOENT) Skip(e, nullptr, ErrnoText(err), emit);
      return false;
    }
    out->name = label;
    // flags first: on sysfs, an interface that is not up answers EINVAL
    // (absent) for the attributes NeedsRunning names, so they are not read
    // (two reads of four for each interface that is down, each taking the
    // RTNL lock).
    if (!ReadNumber(e, kFlags, out, emit)) return false;
    const bool down = files_.on_sysfs() && out->has[kFlags] &&
                      (out->value[kFlags] & IFF_UP) == 0;
    // With a dump, sysfs' ifindex says whether link is this interface; if
    // it is not, the interface is read from sysfs alone.
    const bool have_index = link != nullptr;
    if (have_index && !ReadNumber(e, kIfindex, out, emit)) return false;
    if (have_index && !SameInterface(*link, *out)) link = nullptr;
    if (!ReadTexts(e, link, down, out, emit)) return false;
    for (int i = 0; i < kNumeric; ++i) {
      if (i == kFlags || (i == kIfindex && have_index)) continue;
      out->has[i] = false;
      if (down && NeedsRunning(kMetrics[i].file)) continue;
      if (link != nullptr && DumpNumber(*link, i, &out->value[i])) {
        out->has[i] = true;
      } else if (!ReadNumber(e, i, out, emit)) {
        return false;
      }
    }
    return true;
  }

  // Reads the text attributes of entry e into out->text, as ReadInterface
  // reads the numeric ones. Returns false when the interface is gone.
  bool ReadTexts(std::size_t e, const Link* link, bool down, Interface* out,
                 Emitter& emit) {
    std::string_view value;
    for (int i = 0; i < kInfoAttrs; ++i) {
      Got got = Got::kAbsent;
      if (link != nullptr && DumpText(*link, i, &value)) {
        got = Got::kValue;
      } else if (!down || !NeedsRunning(kInfoFiles[i])) {
        got = Read(e, i, &value, emit);
        if (got == Got::kGone) return false;
      }
      out->text[i].assign(got == Got::kValue ? value : std::string_view());
    }
    return true;
  }

  // Reads numeric attribute i of entry e into out->value[i] and out->has[i].
  // Returns false when the interface is gone.
  bool ReadNumber(std::size_t e, int i, Interface* out, Emitter& emit) {
    out->has[i] = false;
    std::string_view value;
    const Got got = Read(e, kInfoAttrs + i, &value, emit);
    if (got == Got::kGone) return false;
    if (got != Got::kValue) return true;
    if (ParseInt(value, &out->value[i])) {
      out->has[i] = true;
    } else {
      const std::string_view shown = value.substr(0, 64);
      Skip(e, kMetrics[i].file, "'" + std::string(shown) + "' is not a number",
           emit);
    }
    return true;
  }

  // Reads attribute k of entry e, trimmed, into *value. An absent
  // attribute (IsAbsent) is kAbsent with nothing reported; any other error
  // is reported as a skipped line. kGone: the interface was removed.
  Got Read(std::size_t e, int k, std::string_view* value, Emitter& emit) {
    const int err = files_.Read(static_cast<std::size_t>(k), value);
    if (err == 0) {
      *value = TrimSpace(*value);
      return Got::kValue;
    }
    if (err == ENODEV) return Got::kGone;
    if (!IsAbsent(err)) {
      Skip(e, AttributeName(k),
           err == EFBIG ? "larger than a sysfs attribute (4096 bytes)"
                        : ErrnoText(err),
           emit);
    }
    return Got::kAbsent;
  }

  static const char* AttributeName(int k) {
    return k < kInfoAttrs ? kInfoFiles[k] : kMetrics[k - kInfoAttrs].file;
  }

  // Reports <dir>/<name>[/<file>] as a skipped line (line 1: an attribute
  // is one value).
  void Skip(std::size_t e, const char* file, const std::string& reason,
            Emitter& emit) const {
    std::string path = dir_ + "/" + files_.name(e);
    if (file != nullptr) path += std::string("/") + file;
    emit.SkipLine(path.c_str(), 1, reason.c_str());
  }

  void Emit(std::size_t n, Emitter& emit) const {
    if (n == 0) return;
    const auto interfaces = std::span(ifaces_).first(n);
    emit.Family("sysmetrics_network_up",
                "Value is 1 if operstate is 'up', 0 otherwise.",
                SM_METRIC_GAUGE);
    for (const Interface& i : interfaces) {
      emit.Sample(UpValue(i.text[kOperstate]), {{"interface", i.name}});
    }
    emit.Family("sysmetrics_network_info",
                "Non-numeric data from /sys/class/net/<iface>, value is "
                "always 1.",
                SM_METRIC_GAUGE);
    for (const Interface& i : interfaces) {
      const InfoLabels l = MakeInfoLabels(i.name, i.text);
      sm_label labels[1 + kInfoAttrs];
      for (int k = 0; k < 1 + kInfoAttrs; ++k) {
        labels[k] = {l.name[k], l.value[k]};
      }
      emit.Sample(1, labels, 1 + kInfoAttrs);
    }
    for (int m = 0; m < kNumeric; ++m) {
      bool begun = false;
      for (const Interface& i : interfaces) {
        if (!i.has[m]) continue;
        double v = static_cast<double>(i.value[m]);
        if (m == kSpeed && !SpeedBytes(i.value[m], &v)) continue;
        if (!begun) {
          emit.Family(kMetrics[m].name, kMetrics[m].help, kMetrics[m].type,
                      kMetrics[m].unit);
          begun = true;
        }
        emit.Sample(v, {{"interface", i.name}});
      }
    }
  }

  std::string dir_;
  bool real_sysfs_;  // the sysfs root is /sys: a dump may be used
  plugin::NameFilter filter_;
  AttributeFiles files_;
  LinkDump dump_;
  std::vector<Link> links_;  // the last dump, sorted by name
  std::vector<Interface> ifaces_;
};

}  // namespace
}  // namespace sysmetrics::netclass

// collect() only reads /sys and a netlink dump (which never blocks) and
// computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::netclass::NetClassCollector, "netclass", SYSMETRICS_VERSION,
    "Per-interface attributes (link state, speed, MTU, flags), from "
    "/sys/class/net.",
    sysmetrics::netclass::kOptions, 1, SM_PLUGIN_NONBLOCKING)
