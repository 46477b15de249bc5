// Parser for <procfs>/net/dev, the per-interface network counters.
//
// Format (net/core/net-procfs.c, dev_seq_show; proc(5)): two header lines,
// then one line per interface:
//   "  eth0: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame
//    rx_compressed rx_multicast tx_bytes tx_packets tx_errs tx_drop tx_fifo
//    tx_colls tx_carrier tx_compressed"
// The name is right-aligned to 6 characters and followed by ':' with no
// space, and the first counter follows the colon directly when it is wide
// ("wg0:98765432101234 ..."). Old kernels listed IP aliases as interfaces
// ("eth0:1: ..."), so a line is split at its last ':', as node_exporter's
// procfs library does. Names may also hold dots, hyphens,
// '@' and non-ASCII bytes ("eth0.100", "br-7f3a9c2e1d4b").
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
  std::string_view name;  // as printed, less the blanks around it
  std::size_t line = 0;   // 1-based number of the line it came from
  std::uint64_t v[kCounters] = {};
};

struct NetDev {
  std::vector<InterfaceLine> interfaces;     // in file order, names unique
  std::vector<plugin::SkippedLine> skipped;  // in line order
  // The parser's scratch, not part of the result: a hash table of indices
  // into interfaces by name, kept here so its memory is reused across
  // parses.
  std::vector<std::uint32_t> name_index;
};

// Parses text (the file's content); file names the file in the error.
//
// Lines 1 and 2 are the headers when they hold a '|', and are ignored;
// blank lines are ignored too. Every other line is an interface: the name
// is the text before the line's last ':' with the blanks (spaces, tabs)
// around it removed; the first 16 fields after that ':' are the counters,
// and any after them are not looked at. An interface line is skipped, and
// recorded in out->skipped with its 1-based line number and a reason that
// names the interface but not the file or line ("eth0: counter 3 'x' is
// not a number"), when it has no ':', its name is empty, fewer than 16
// fields follow the ':', one of the first 16 is not a decimal uint64, or
// its name is that of an interface already accepted from an earlier line
// (the earlier line stays).
//
// Returns true when at least one interface line was accepted:
// out->interfaces holds the accepted lines and out->skipped the skipped
// ones. Otherwise (an empty file, headers only, every line skipped) returns
// false and sets *error to "<file>: no interface line could be read";
// out->interfaces is then empty and out->skipped still lists the skipped
// lines. Both are cleared first and keep their capacity.
bool ParseNetDev(std::string_view text, std::string_view file, NetDev* out,
                 std::string* error);

}  // namespace sysmetrics::network
