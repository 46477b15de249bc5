// memory.so: memory and swap sizes from <procfs>/meminfo.
#include <string>
#include <sysmetrics/plugin.hpp>

#include "collect.hpp"
#include "meminfo.hpp"

namespace sysmetrics::memory {
namespace {

class MemoryCollector {
 public:
  explicit MemoryCollector(Host& host)
      : file_(host.ProcfsRoot() + "/meminfo") {}

  void Collect(Emitter& emit) {
    MemInfo m;
    plugin::ReadAndParse(file_, &buf_, &m, ParseMemInfo, emit);
    // A key this kernel does not print leaves its metric out.
    auto gauge = [&](const char* name, const char* help,
                     const std::optional<std::uint64_t>& v) {
      if (!v) return;
      emit.Family(name, help, SM_METRIC_GAUGE, "bytes");
      emit.Sample(static_cast<double>(*v));
    };
    gauge("sysmetrics_memory_total_bytes", "Usable RAM (MemTotal).", m.total);
    gauge("sysmetrics_memory_free_bytes", "Unused RAM (MemFree).", m.free);
    gauge("sysmetrics_memory_available_bytes",
          "RAM available for new work without swapping (MemAvailable).",
          m.available);
    gauge("sysmetrics_memory_buffers_bytes",
          "RAM in block device buffers (Buffers).", m.buffers);
    gauge("sysmetrics_memory_cached_bytes", "RAM in the page cache (Cached).",
          m.cached);
    gauge("sysmetrics_memory_swap_total_bytes", "Swap space (SwapTotal).",
          m.swap_total);
    gauge("sysmetrics_memory_swap_free_bytes", "Unused swap (SwapFree).",
          m.swap_free);
    if (m.total && m.free && m.buffers && m.cached) {
      // What free(1) called "used" before procps 3.3.10: total - free -
      // buffers - cache. Cached can exceed total - free - buffers on some
      // kernels (shmem is counted in both); clamp at 0 rather than export a
      // negative size.
      const std::uint64_t unused = *m.free + *m.buffers + *m.cached;
      const std::uint64_t used = *m.total > unused ? *m.total - unused : 0;
      gauge("sysmetrics_memory_used_bytes",
            "RAM in use: total - free - buffers - cached.", used);
    }
  }

 private:
  plugin::ProcFile file_;
  std::string buf_;
};

}  // namespace
}  // namespace sysmetrics::memory

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(sysmetrics::memory::MemoryCollector, "memory",
                                 SYSMETRICS_VERSION,
                                 "Memory and swap sizes, from /proc/meminfo.",
                                 nullptr, 0, SM_PLUGIN_NONBLOCKING)
