#include "mountinfo.hpp"

#include <cstdint>

namespace sysmetrics::filesystem {
namespace {

using plugin::NextField;
using plugin::ParseU64;

// Reads one line into *m; on a line that cannot be read returns false and
// sets *why.
bool ParseLine(std::string_view rest, Mount* m, std::string* why) {
  const std::string_view id = NextField(&rest);
  const std::string_view parent = NextField(&rest);
  NextField(&rest);  // major:minor
  NextField(&rest);  // root
  const std::string_view point = NextField(&rest);
  const std::string_view options = NextField(&rest);
  std::uint64_t unused = 0;
  if (!ParseU64(id, &unused) || !ParseU64(parent, &unused)) {
    *why = "mount ID '" + std::string(id) + "' or parent ID '" +
           std::string(parent) + "' is not a number";
    return false;
  }
  if (options.empty()) {
    *why = "fewer than 6 fields before the ' - ' separator";
    return false;
  }
  if (point.front() != '/') {
    *why = "mount point '" + std::string(point) + "' is not an absolute path";
    return false;
  }
  // Optional fields (shared:N, master:N, propagate_from:N, unbindable and
  // whatever later kernels add), up to the lone "-".
  for (;;) {
    const std::string_view f = NextField(&rest);
    if (f.empty()) {
      *why = "no ' - ' separator after the optional fields";
      return false;
    }
    if (f == "-") break;
  }
  m->fs_type = NextField(&rest);
  m->source = NextField(&rest);
  if (m->source.empty()) {
    *why = "no filesystem type and mount source after ' - '";
    return false;
  }
  const std::string_view super_options = NextField(&rest);
  UnescapeMountPath(point, &m->mount_point);
  // The super block's options only: the per-mount flag (field 6) is also
  // set on read-only bind mounts the service's own sandbox makes
  // (systemd's ProtectSystem=strict remounts every mount read-only in the
  // service's namespace), which say nothing of the file system.
  m->readonly = HasReadOnlyOption(super_options);
  return true;
}

}  // namespace

void UnescapeMountPath(std::string_view escaped, std::string* out) {
  out->clear();
  out->reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '\\' && escaped.size() - i >= 4) {
      const std::string_view code = escaped.substr(i + 1, 3);
      char decoded = 0;
      if (code == "040") decoded = ' ';
      if (code == "011") decoded = '\t';
      if (code == "012") decoded = '\n';
      if (code == "134") decoded = '\\';
      if (decoded != 0) {
        out->push_back(decoded);
        i += 3;
        continue;
      }
    }
    out->push_back(c);
  }
}

bool HasReadOnlyOption(std::string_view options) {
  while (!options.empty()) {
    const std::size_t comma = options.find(',');
    if (options.substr(0, comma) == "ro") return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

bool ParseMountInfo(std::string_view text, std::string_view file,
                    MountInfo* out, std::string* error) {
  // Not ClearForReuse: a Mount owns a string, and keeping the elements'
  // capacity is what saves the allocations.
  std::size_t used = 0;
  out->skipped.clear();
  std::string why;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return true;
    if (used == out->mounts.size()) out->mounts.emplace_back();
    Mount& m = out->mounts[used];
    m.line = line_no;
    if (ParseLine(line, &m, &why)) {
      ++used;
    } else {
      out->skipped.push_back({line_no, std::move(why)});
      why.clear();
    }
    return true;
  });
  out->mounts.resize(used);
  if (used == 0) {
    *error = std::string(file) + ": no mount line could be read";
    return false;
  }
  return true;
}

}  // namespace sysmetrics::filesystem
