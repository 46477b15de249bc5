// netclass.so: per-interface attributes from <sysfs>/class/net, as
// node_exporter 1.5's netclass collector exports them.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <sysmetrics/plugin.hpp>
#include <system_error>
#include <vector>

#include "collect.hpp"
#include "net_class.hpp"

namespace sysmetrics::netclass {
namespace {

const sm_option kOptions[] = {
    StringOption("exclude_pattern", "^$",
                 "Interfaces whose name matches this regular expression "
                 "(ECMAScript) are skipped."),
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
constexpr int kSpeed = 14;
static_assert(std::string_view(kMetrics[kSpeed].file) == "speed");

// A sysfs attribute is at most a page and is handed over whole by one
// read(2); a file larger than this is no sysfs attribute.
constexpr std::size_t kMaxAttributeBytes = 4096;

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

std::string ErrnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class NetClassCollector {
 public:
  explicit NetClassCollector(Host& host)
      : dir_(host.SysfsRoot() + "/class/net"),
        filter_(plugin::ExcludeFilter(host)) {}

  void Collect(Emitter& emit) {
    const Fd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) throw Error(dir_ + ": " + ErrnoText(errno), SM_ERR_IO);
    ListInterfaces(dir.get());
    filter_.BeginCollect();
    std::size_t n = 0;
    for (const std::string& name : names_) {
      const char* label = filter_.Include(name);
      if (label == nullptr) continue;
      if (ifaces_.size() <= n) ifaces_.emplace_back();
      if (ReadInterface(dir.get(), name, label, &ifaces_[n], emit)) ++n;
    }
    Emit(n, emit);
  }

 private:
  // The names in class/net (open as dir) that are not regular files, sorted:
  // interfaces are symbolic links into devices/, and node keeps directories
  // too.
  void ListInterfaces(int dir) {
    // fdopendir takes over the descriptor it is given: give it a copy.
    const int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (d == nullptr) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      throw Error(dir_ + ": " + ErrnoText(err), SM_ERR_IO);
    }
    std::size_t n = 0;
    // A stream of our own: readdir is thread-safe on it (glibc, POSIX 2024).
    while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      bool regular = e->d_type == DT_REG;
      if (e->d_type == DT_UNKNOWN) {  // file systems without d_type
        struct stat st {};
        regular = ::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                  S_ISREG(st.st_mode);
      }
      if (regular) continue;
      if (names_.size() <= n) names_.emplace_back();
      names_[n++].assign(name);  // under IFNAMSIZ: no allocation
    }
    ::closedir(d);
    names_.resize(n);
    std::sort(names_.begin(), names_.end());
  }

  // Reads the attributes of interface name into *out, in one pass over its
  // directory. Returns false when the directory cannot be opened: gone
  // since the listing (an interface removed meanwhile) costs nothing, any
  // other reason is reported as a skipped line.
  bool ReadInterface(int dir, const std::string& name, const char* label,
                     Interface* out, Emitter& emit) {
    const Fd iface(
        ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (iface.get() < 0) {
      const int err = errno;
      if (err != ENOENT) Skip(name, nullptr, ErrnoText(err), emit);
      return false;
    }
    out->name = label;
    for (int i = 0; i < kInfoAttrs; ++i) {
      std::string& text = out->text[i];
      if (Read(iface.get(), name, kInfoFiles[i], emit)) {
        text.assign(value_);
      } else {
        text.clear();
      }
    }
    for (int i = 0; i < kNumeric; ++i) {
      out->has[i] = false;
      if (!Read(iface.get(), name, kMetrics[i].file, emit)) continue;
      if (ParseInt(value_, &out->value[i])) {
        out->has[i] = true;
      } else {
        const std::string_view shown = value_.substr(0, 64);
        Skip(name, kMetrics[i].file,
             "'" + std::string(shown) + "' is not a number", emit);
      }
    }
    return true;
  }

  // Reads file in the interface directory iface into value_ (trimmed) with
  // one read(2): sysfs hands an attribute over whole in one read, as node's
  // util.SysReadFile relies on. Returns false, with nothing reported, when
  // the attribute is absent (IsAbsent); on any other error reports a
  // skipped line and returns false.
  bool Read(int iface, const std::string& name, const char* file,
            Emitter& emit) {
    // O_NONBLOCK: a FIFO in a fixture tree must not block the open.
    const Fd fd(
        ::openat(iface, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    int err = fd.get() < 0 ? errno : 0;
    ssize_t got = 0;
    if (err == 0) {
      do {
        got = ::read(fd.get(), buf_, sizeof buf_);
      } while (got < 0 && errno == EINTR);
      if (got < 0) err = errno;
    }
    if (err != 0) {
      if (!IsAbsent(err)) Skip(name, file, ErrnoText(err), emit);
      return false;
    }
    if (static_cast<std::size_t>(got) > kMaxAttributeBytes) {
      Skip(name, file, "larger than a sysfs attribute (4096 bytes)", emit);
      return false;
    }
    value_ = TrimSpace(std::string_view(buf_, static_cast<std::size_t>(got)));
    return true;
  }

  // Reports <dir>/<name>[/<file>] as a skipped line (line 1: an attribute
  // is one value).
  void Skip(const std::string& name, const char* file,
            const std::string& reason, Emitter& emit) const {
    std::string path = dir_ + "/" + name;
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
  plugin::NameFilter filter_;
  char buf_[kMaxAttributeBytes + 1] = {};
  std::string_view value_;  // the last attribute read, in buf_
  std::vector<std::string> names_;
  std::vector<Interface> ifaces_;
};

}  // namespace
}  // namespace sysmetrics::netclass

// collect() only reads /sys and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::netclass::NetClassCollector, "netclass", SYSMETRICS_VERSION,
    "Per-interface attributes (link state, speed, MTU, flags), from "
    "/sys/class/net.",
    sysmetrics::netclass::kOptions, 1, SM_PLUGIN_NONBLOCKING)
