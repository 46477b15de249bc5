#include "diskstats.hpp"

#include <algorithm>

#include "proc_file.hpp"

namespace sysmetrics::disk {
namespace {

using plugin::NextField;
using plugin::ParseU64;

// FNV-1a: names are short, and this is inline and cheap per byte.
std::uint64_t HashName(std::string_view name) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// The slot of table (open addressing, linear probing; a slot holds an index
// into devices plus one, 0 when empty) that holds name, or the empty slot
// where it would go. The table is never full (see Reserve).
std::uint32_t* FindSlot(std::vector<std::uint32_t>& table,
                        const std::vector<DiskLine>& devices,
                        std::string_view name) {
  const std::size_t mask = table.size() - 1;
  for (std::size_t i = HashName(name) & mask;; i = (i + 1) & mask) {
    std::uint32_t& slot = table[i];
    if (slot == 0 || devices[slot - 1].name == name) return &slot;
  }
}

// Keeps the table (a power of two in size) at most half full with one more
// device, rehashing what it holds when it grows.
void Reserve(std::vector<std::uint32_t>& table,
             const std::vector<DiskLine>& devices) {
  if (table.size() >= 2 * (devices.size() + 1)) return;
  std::size_t size = std::max<std::size_t>(table.size(), 64);
  while (size < 2 * (devices.size() + 1)) size *= 2;
  table.assign(size, 0);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    *FindSlot(table, devices, devices[i].name) =
        static_cast<std::uint32_t>(i + 1);
  }
}

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
  std::vector<std::uint32_t>& index = out->name_index;
  std::fill(index.begin(), index.end(), 0);
  std::string why;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    const std::string_view major = NextField(&rest);
    if (major.empty()) return true;  // blank line
    const std::string_view minor = NextField(&rest);
    DiskLine d;
    d.name = NextField(&rest);
    d.line = line_no;
    std::uint64_t unused = 0;
    if (d.name.empty()) {
      why = "no device name";
    } else if (!ParseU64(major, &unused) || !ParseU64(minor, &unused)) {
      why = std::string(d.name) + ": major/minor '" + std::string(major) + " " +
            std::string(minor) + "' are not numbers";
    } else if (ReadStats(rest, &d, &why)) {
      // A repeated name would be a duplicate series.
      Reserve(index, out->devices);
      std::uint32_t* slot = FindSlot(index, out->devices, d.name);
      if (*slot == 0) {
        out->devices.push_back(d);
        *slot = static_cast<std::uint32_t>(out->devices.size());
        return true;
      }
      why = std::string(d.name) + " repeats line " +
            std::to_string(out->devices[*slot - 1].line);
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
