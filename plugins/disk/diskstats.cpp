#include "diskstats.hpp"

#include <algorithm>

#include "name_index.hpp"
#include "proc_file.hpp"

namespace sysmetrics::disk {
namespace {

using plugin::NextField;
using plugin::ParseU64;

// Reads the stat fields after the name (in rest) into *d. On a line that
// cannot be read returns false and sets *why.
bool ReadStats(std::string_view rest, DiskLine* d, std::string* why) {
  // Fields 12-15 came with 4.18 and 16-17 with 5.5; iostats.rst says more
  // may follow, so a line is read up to the widest layout it has and what
  // follows is not looked at (node_exporter's procfs library does the same).
  int n = 0;
  int bad = -1;
  std::string_view bad_field;
  for (; n < kMaxStats; ++n) {
    const std::string_view f = NextField(&rest);
    if (f.empty()) break;
    if (!ParseU64(f, &d->v[n]) && bad < 0) {
      bad = n;
      bad_field = f;
    }
  }
  const int read = n >= 17 ? 17 : n >= 15 ? 15 : n >= 11 ? 11 : 0;
  if (read == 0) {
    *why = std::string(d->name) + ": " + std::to_string(n + 3) +
           " fields, want at least 14";
    return false;
  }
  if (bad >= 0 && bad < read) {
    *why = std::string(d->name) + ": field " + std::to_string(bad + 4) + " '" +
           std::string(bad_field) + "' is not a number";
    return false;
  }
  std::fill(d->v + read, d->v + n, 0);  // read but not part of the layout
  d->stats = read;
  return true;
}

}  // namespace

bool ParseDiskStats(std::string_view text, std::string_view file,
                    DiskStats* out, std::string* error) {
  plugin::ClearForReuse(&out->devices);
  out->skipped.clear();
  plugin::ResetNameIndex(&out->name_index);
  std::string why;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    const std::string_view major = NextField(&rest);
    if (major.empty()) return true;  // blank line
    const std::string_view minor = NextField(&rest);
    DiskLine d;
    d.name = NextField(&rest);
    d.line = line_no;
    d.major_text = major;
    d.minor_text = minor;
    if (d.name.empty()) {
      why = "no device name";
    } else if (!ParseU64(major, &d.major) || !ParseU64(minor, &d.minor)) {
      why = std::string(d.name) + ": major/minor '" + std::string(major) + " " +
            std::string(minor) + "' are not numbers";
    } else if (ReadStats(rest, &d, &why)) {
      // A repeated name would be a duplicate series.
      const auto* earlier =
          plugin::AppendUnique(&out->name_index, &out->devices, d);
      if (earlier == nullptr) return true;
      why = std::string(d.name) + " repeats line " +
            std::to_string(earlier->line);
    }
    out->skipped.push_back({line_no, std::move(why)});
    why.clear();
    return true;
  });
  if (out->devices.empty()) {
    *error = std::string(file) + ": no device line could be read";
    return false;
  }
  return true;
}

}  // namespace sysmetrics::disk
