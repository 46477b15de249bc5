// memory.so: every field of <procfs>/meminfo, in bytes or as counted.
#include <cstddef>
#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "collect.hpp"
#include "meminfo.hpp"

namespace sysmetrics::memory {
namespace {

constexpr const char* kUsedName = "sysmetrics_memory_used_bytes";

// Rows of kMeminfoFields the used_bytes gauge is computed from.
constexpr std::size_t Row(std::string_view key) {
  for (std::size_t i = 0; i < kNumMeminfoFields; ++i) {
    if (kMeminfoFields[i].key == key) return i;
  }
  return kNumMeminfoFields;  // a key not in the table: fails the assert
}
constexpr std::size_t kMemTotal = Row("MemTotal");
constexpr std::size_t kMemFree = Row("MemFree");
constexpr std::size_t kBuffers = Row("Buffers");
constexpr std::size_t kCached = Row("Cached");
static_assert(kMemTotal < kNumMeminfoFields && kMemFree < kNumMeminfoFields &&
              kBuffers < kNumMeminfoFields && kCached < kNumMeminfoFields);

class MemoryCollector {
 public:
  explicit MemoryCollector(Host& host) : file_(host.ProcfsRoot() + "/meminfo") {
    // NUL-terminated copies, made once: a scrape builds no name.
    known_.reserve(kNumMeminfoFields);
    for (const MeminfoField& f : kMeminfoFields) {
      known_.push_back({std::string(f.family), std::string(f.help)});
    }
  }

  void Collect(Emitter& emit) {
    plugin::ReadAndParse(file_, &buf_, &m_, ParseMemInfo, emit);
    for (const MemInfoLine& l : m_.lines) {
      const Names* names = nullptr;
      if (l.field != kUnknownField) {
        names = &known_[l.field];
      } else {
        const Unknown& u = FindUnknown(l.name, l.kib);
        if (!u.taken.empty()) {
          emit.SkipLine(file_.path().c_str(), l.line, u.taken.c_str());
          continue;
        }
        names = &u.names;
      }
      // A family the host refuses (it logs why) gets no sample.
      if (emit.Family(names->family.c_str(), names->help.c_str(),
                      SM_METRIC_GAUGE, l.kib ? "bytes" : nullptr)) {
        emit.Sample(static_cast<double>(l.value));
      }
    }
    const MemInfoLine* total = m_.Known(kMemTotal);
    const MemInfoLine* free = m_.Known(kMemFree);
    const MemInfoLine* buffers = m_.Known(kBuffers);
    const MemInfoLine* cached = m_.Known(kCached);
    if (total && free && buffers && cached) {
      // The "used" of older free(1) releases: total - free - buffers -
      // cache (Debian 12's free, procps 4.0.2, prints total - available,
      // as the dashboard does; README explains both). Cached can exceed
      // total - free - buffers on some kernels (shmem is counted in both);
      // clamp at 0 rather than export a negative size.
      const std::uint64_t unused = free->value + buffers->value + cached->value;
      const std::uint64_t used =
          total->value > unused ? total->value - unused : 0;
      emit.Family(kUsedName, "RAM in use: total - free - buffers - cached.",
                  SM_METRIC_GAUGE, "bytes");
      emit.Sample(static_cast<double>(used));
    }
  }

 private:
  struct Names {
    std::string family;
    std::string help;
  };
  struct Unknown {
    std::string key;
    bool kib = false;
    Names names;
    std::string taken;  // why it is not exported: its name is another's
  };
  // Keys kMeminfoFields lacks are few (a kernel newer than the table), so a
  // short list searched in order serves; bounded against a file that
  // churns through keys.
  static constexpr std::size_t kMaxUnknown = 256;

  // The names for a key the table does not know, made the first time it is
  // seen.
  const Unknown& FindUnknown(std::string_view key, bool kib) {
    for (const Unknown& u : unknown_) {
      if (u.key == key && u.kib == kib) return u;
    }
    if (unknown_.size() >= kMaxUnknown) unknown_.clear();
    Unknown u;
    u.key = std::string(key);
    u.kib = kib;
    u.names.family = UnknownFamilyName(key, kib);
    u.names.help = "Memory information field " + u.key + ".";
    bool taken = u.names.family == kUsedName;
    for (const Names& n : known_) taken = taken || n.family == u.names.family;
    if (taken) {
      u.taken =
          u.key + ": its metric name " + u.names.family + " is another field's";
    }
    unknown_.push_back(std::move(u));
    return unknown_.back();
  }

  plugin::ProcFile file_;
  std::string buf_;
  MemInfo m_;
  std::vector<Names> known_;  // by row of kMeminfoFields
  std::vector<Unknown> unknown_;
};

}  // namespace
}  // namespace sysmetrics::memory

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(
    sysmetrics::memory::MemoryCollector, "memory", SYSMETRICS_VERSION,
    "Memory, swap and huge page sizes and counts: every "
    "field of /proc/meminfo.",
    nullptr, 0, SM_PLUGIN_NONBLOCKING)
