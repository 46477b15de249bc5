#include "kernel_stat.hpp"

#include <algorithm>
#include <iterator>

namespace sysmetrics::stat {
namespace {

// The keys of one number, in the order a kernel prints them.
struct Key {
  std::string_view name;
  std::optional<std::uint64_t> KernelStat::*field;
};

constexpr Key kKeys[] = {
    {"intr", &KernelStat::interrupts},
    {"ctxt", &KernelStat::context_switches},
    {"btime", &KernelStat::boot_time},
    {"processes", &KernelStat::forks},
    {"procs_running", &KernelStat::procs_running},
    {"procs_blocked", &KernelStat::procs_blocked},
};
constexpr std::size_t kNumKeys = std::size(kKeys);
constexpr std::size_t kSoftirqKey = kNumKeys;  // its index in read_on

[[gnu::cold, gnu::noinline]] std::string NoValue(std::string_view key) {
  return std::string(key) + ": no value";
}

[[gnu::cold, gnu::noinline]] std::string NotANumber(std::string_view key,
                                                    std::string_view what,
                                                    std::string_view value) {
  return std::string(key) + ": " + std::string(what) + " '" +
         std::string(value) + "' is not a number";
}

// Reads the vectors of a softirq line (rest: after the key) into v. On a
// line that cannot be read returns false and sets *why.
bool ReadSoftirqs(std::string_view rest, std::uint64_t* v, std::string* why) {
  const std::string_view total = plugin::NextField(&rest);
  std::uint64_t ignored = 0;
  if (total.empty()) {
    *why = NoValue("softirq");
    return false;
  }
  if (!plugin::ParseU64(total, &ignored)) {
    *why = NotANumber("softirq", "total", total);
    return false;
  }
  for (int i = 0; i < kSoftirqs; ++i) {
    const std::string_view f = plugin::NextField(&rest);
    if (f.empty()) {
      *why = "softirq: " + std::to_string(i) + " vectors after the total, " +
             "want at least " + std::to_string(kSoftirqs);
      return false;
    }
    if (!plugin::ParseU64(f, &v[i])) {
      *why = NotANumber("softirq", kSoftirqNames[i], f);
      return false;
    }
  }
  return true;
}

std::string NoneRead(std::string_view file) {
  std::string s = std::string(file) + ": none of the keys ";
  for (const Key& k : kKeys) s += std::string(k.name) + ", ";
  return s + "softirq could be read";
}

}  // namespace

bool ParseKernelStat(std::string_view text, std::string_view file,
                     KernelStat* out, std::string* error) {
  for (const Key& k : kKeys) (out->*(k.field)).reset();
  out->has_softirqs = false;
  out->skipped.clear();
  std::size_t read_on[kNumKeys + 1] = {};  // line each key was read from
  bool any = false;
  std::string why;
  std::uint64_t softirqs[kSoftirqs] = {};
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    const std::string_view key = plugin::NextField(&rest);
    std::size_t k = 0;
    while (k < kNumKeys && kKeys[k].name != key) ++k;
    if (k == kNumKeys && key != "softirq") return true;  // cpu, page, ...
    bool ok = false;
    std::uint64_t value = 0;
    if (k == kSoftirqKey) {
      ok = ReadSoftirqs(rest, softirqs, &why);
    } else {
      // Only the first number: intr's thousands of per-IRQ counts after it
      // are never scanned.
      const std::string_view f = plugin::NextField(&rest);
      if (f.empty()) {
        why = NoValue(key);
      } else if (!plugin::ParseU64(f, &value)) {
        why = NotANumber(key, "value", f);
      } else {
        ok = true;
      }
    }
    if (ok && read_on[k] != 0) {
      why = std::string(key) + " repeats line " + std::to_string(read_on[k]);
      ok = false;
    }
    if (!ok) {
      out->skipped.push_back({line_no, std::move(why)});
      why.clear();
      return true;
    }
    read_on[k] = line_no;
    any = true;
    if (k == kSoftirqKey) {
      out->has_softirqs = true;
      std::copy(std::begin(softirqs), std::end(softirqs), out->softirqs);
    } else {
      out->*(kKeys[k].field) = value;
    }
    return true;
  });
  if (!any) {
    *error = NoneRead(file);
    return false;
  }
  return true;
}

}  // namespace sysmetrics::stat
