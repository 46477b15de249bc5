// Parser for a device's entry in udev's database, <udev_data>/b<major>:<minor>
// (default /run/udev/data), which node_exporter's diskstats collector reads
// for its info families. Written by systemd-udevd (src/libsystemd/
// sd-device/device-private.c, device_update_db): one record a line, a type
// letter and ':' first; "E:KEY=VALUE" lines are the device's properties,
// the others (S: links, L: priority, I: init time, G:/Q: tags, V: version)
// are of no interest here.
//
// Pure function of its input; thread-safe. The result owns its strings, so
// it can be cached beyond the text it came from.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sysmetrics::disk {

// The properties sysmetrics exports, as node_exporter 1.5 does.
enum UdevKey {
  kIdPath,
  kIdWwn,
  kIdModel,
  kIdSerialShort,
  kIdRevision,
  kIdFsType,
  kIdFsUsage,
  kIdFsUuid,
  kIdFsVersion,
  kDmName,
  kDmUuid,
  kDmVgName,
  kDmLvName,
  kDmLvLayer,
  kIdAta,
  kIdAtaWriteCache,
  kIdAtaWriteCacheEnabled,
  kIdAtaRotationRateRpm,
};
inline constexpr int kUdevKeys = kIdAtaRotationRateRpm + 1;
inline constexpr std::string_view kUdevKeyNames[kUdevKeys] = {
    "ID_PATH",
    "ID_WWN",
    "ID_MODEL",
    "ID_SERIAL_SHORT",
    "ID_REVISION",
    "ID_FS_TYPE",
    "ID_FS_USAGE",
    "ID_FS_UUID",
    "ID_FS_VERSION",
    "DM_NAME",
    "DM_UUID",
    "DM_VG_NAME",
    "DM_LV_NAME",
    "DM_LV_LAYER",
    "ID_ATA",
    "ID_ATA_WRITE_CACHE",
    "ID_ATA_WRITE_CACHE_ENABLED",
    "ID_ATA_ROTATION_RATE_RPM",
};

struct UdevProperties {
  std::string value[kUdevKeys];      // "" when the key is absent
  std::size_t line[kUdevKeys] = {};  // 1-based line it came from; 0: absent
};

// Reads text (the content of a udev database file) into *out, clearing it
// first (strings keep their capacity). As node_exporter's
// getUdevDeviceProperties: only lines that start with "E:" count; the rest
// of such a line is split at its first '=' into key and value, neither
// trimmed (a line without '=' is ignored); a key given twice keeps its last
// value. A '\r' before a line's '\n' is dropped, as Go's bufio.Scanner does.
// Never fails: a file with no property lines gives every value "".
void ParseUdevData(std::string_view text, UdevProperties* out);

// Parses a udev value holding a number (the ID_ATA_* properties hold "0",
// "1" or a rotation rate such as "7200"), as a decimal floating-point
// number with nothing around it. Returns false for anything else, leaving
// *out alone.
bool ParseUdevNumber(std::string_view value, double* out);

}  // namespace sysmetrics::disk
