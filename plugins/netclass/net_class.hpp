// Parsing for <sysfs>/class/net/<interface>/<attribute>, the per-interface
// attributes the kernel exports in sysfs (Documentation/ABI/testing/
// sysfs-class-net): one value per file, a number (decimal, or hex such as
// flags "0x1003") or a word (operstate "up"), ended by a newline.
//
// The values are read as node_exporter 1.5 reads them (procfs library,
// util.SysReadFile then strconv.ParseInt(v, 0, 64)): white space around the
// value is dropped, then the number is read with Go's base-0 syntax.
//
// Pure functions of their input; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "text.hpp"

namespace sysmetrics::netclass {

// A value is trimmed with TrimSpace (text.hpp), as Go's bytes.TrimSpace
// trims a sysfs value.

// Parses value (already trimmed) as Go's strconv.ParseInt(value, 0, 64):
// an optional sign, then "0x"/"0X" hex, "0o"/"0O" octal, "0b"/"0B" binary,
// a leading "0" octal, else decimal; '_' may separate digits (and follow a
// prefix). Returns true and sets *out when value is such a number that fits
// an int64; otherwise returns false and leaves *out alone.
bool ParseInt(std::string_view value, std::int64_t* out);

// The text attributes that make up the labels of sysmetrics_network_info,
// in label order.
enum InfoAttr { kAddress, kBroadcast, kDuplex, kOperstate, kIfalias };
inline constexpr int kInfoAttrs = 5;
inline constexpr const char* kInfoFiles[kInfoAttrs] = {
    "address", "broadcast", "duplex", "operstate", "ifalias"};
inline constexpr const char* kInfoLabels[kInfoAttrs] = {
    "address", "broadcast", "duplex", "operstate", "ifalias"};

// The labels of one interface's sysmetrics_network_info sample: "interface"
// then the five text attributes, each the trimmed file content or "" when
// the file could not be read. Pointers into the arguments; valid as long as
// they are.
struct InfoLabels {
  const char* name[1 + kInfoAttrs];
  const char* value[1 + kInfoAttrs];
};
InfoLabels MakeInfoLabels(const char* interface,
                          const std::string (&text)[kInfoAttrs]);

// Whether the kernel answers the attribute only for an interface that is
// running (net/core/net-sysfs.c: carrier_show, dormant_show, duplex_show
// and speed_show return EINVAL unless netif_running()). An interface whose
// flags lack IFF_UP is not running (__dev_open sets IFF_UP once it runs;
// __dev_close_many clears "running" first), so on sysfs these need not be
// read for it: the answer is "absent".
inline bool NeedsRunning(std::string_view attribute) {
  return attribute == "carrier" || attribute == "dormant" ||
         attribute == "duplex" || attribute == "speed";
}

// sysmetrics_network_up: 1 when operstate is "up", else 0 (also when the
// file is missing, operstate then "").
inline double UpValue(std::string_view operstate) {
  return operstate == "up" ? 1 : 0;
}

// speed (Mbit/s) as bytes per second, or false when the kernel does not know
// it: a negative speed (SPEED_UNKNOWN prints -1). node_exporter 1.5 exports
// -125000 for -1; sysmetrics exports no series (a documented difference).
inline bool SpeedBytes(std::int64_t mbit, double* out) {
  if (mbit < 0) return false;
  *out = static_cast<double>(mbit) * 125000.0;
  return true;
}

}  // namespace sysmetrics::netclass
