// Parser for <procfs>/net/dev, the per-interface network counters.
//
// Format (net/core/net-procfs.c, dev_seq_show; proc(5)): two header lines,
// then one line per interface:
//   "  eth0: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame
//    rx_compressed rx_multicast tx_bytes tx_packets tx_errs tx_drop tx_fifo
//    tx_colls tx_carrier tx_compressed"
// The name is right-aligned to 6 characters and followed by ':' with no
// space, and the first counter follows the colon directly when it is wide
// ("wg0:98765432101234 ..."), so each line is split at the first colon.
// Interface names hold no ':' here (aliases like eth0:1 are not listed) but
// may hold dots and hyphens ("eth0.100", "br-7f3a9c2e1d4b").
//
// Pure function of its input; thread-safe. Names in the result point into
// the parsed text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::network {

inline constexpr int kCounters = 16;

struct InterfaceLine {
  std::string_view name;
  std::uint64_t v[kCounters] = {};
};

struct NetDev {
  std::vector<InterfaceLine> interfaces;  // in file order
  std::vector<plugin::SkippedLine> skipped;
};

bool ParseNetDev(std::string_view text, std::string_view file, NetDev* out,
                 std::string* error);

}  // namespace sysmetrics::network
