#include "net_dev.hpp"

#include <string.h>  // memrchr (GNU)

#include <algorithm>

#include "proc_file.hpp"

namespace sysmetrics::network {
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
// into interfaces plus one, 0 when empty) that holds name, or the empty
// slot where it would go. The table is never full (see Reserve).
std::uint32_t* FindSlot(std::vector<std::uint32_t>& table,
                        const std::vector<InterfaceLine>& interfaces,
                        std::string_view name) {
  const std::size_t mask = table.size() - 1;
  for (std::size_t i = HashName(name) & mask;; i = (i + 1) & mask) {
    std::uint32_t& slot = table[i];
    if (slot == 0 || interfaces[slot - 1].name == name) return &slot;
  }
}

// Keeps the table (a power of two in size) at most half full with one more
// interface, rehashing what it holds when it grows.
void Reserve(std::vector<std::uint32_t>& table,
             const std::vector<InterfaceLine>& interfaces) {
  if (table.size() >= 2 * (interfaces.size() + 1)) return;
  std::size_t size = std::max<std::size_t>(table.size(), 64);
  while (size < 2 * (interfaces.size() + 1)) size *= 2;
  table.assign(size, 0);
  for (std::size_t i = 0; i < interfaces.size(); ++i) {
    *FindSlot(table, interfaces, interfaces[i].name) =
        static_cast<std::uint32_t>(i + 1);
  }
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Reads the counters after the colon (in rest) into *i. On a line that
// cannot be read returns false and sets *why.
bool ReadCounters(std::string_view rest, InterfaceLine* i, std::string* why) {
  // Only the 16 counters are read: what a later kernel might append is not
  // looked at.
  int n = 0;
  int bad = -1;
  std::string_view bad_field;
  for (; n < kCounters; ++n) {
    const std::string_view f = NextField(&rest);
    if (f.empty()) break;
    if (!ParseU64(f, &i->v[n]) && bad < 0) {
      bad = n;
      bad_field = f;
    }
  }
  if (n < kCounters) {
    *why = std::string(i->name) + ": " + std::to_string(n) +
           " counters, want at least 16";
    return false;
  }
  if (bad >= 0) {
    *why = std::string(i->name) + ": counter " + std::to_string(bad + 1) +
           " '" + std::string(bad_field) + "' is not a number";
    return false;
  }
  return true;
}

}  // namespace

bool ParseNetDev(std::string_view text, std::string_view file, NetDev* out,
                 std::string* error) {
  plugin::ClearForReuse(&out->interfaces);
  out->skipped.clear();
  std::vector<std::uint32_t>& index = out->name_index;
  std::fill(index.begin(), index.end(), 0);
  std::string why;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    // The two header lines: "Inter-|   Receive ...|  Transmit" and
    // " face |bytes    packets ...".
    if (line_no <= 2 && line.find('|') != std::string_view::npos) return true;
    // memrchr, not rfind: rfind is a byte loop, and it would walk back over
    // the 16 counters of every line.
    const void* last = ::memrchr(line.data(), ':', line.size());
    const std::size_t colon =
        last == nullptr ? std::string_view::npos
                        : static_cast<std::size_t>(
                              static_cast<const char*>(last) - line.data());
    if (colon == std::string_view::npos) {
      if (TrimBlanks(line).empty()) return true;  // blank
      out->skipped.push_back({line_no, "no ':' after an interface name"});
      return true;
    }
    InterfaceLine i;
    i.name = TrimBlanks(line.substr(0, colon));
    i.line = line_no;
    if (i.name.empty()) {
      why = "empty interface name";
    } else if (ReadCounters(line.substr(colon + 1), &i, &why)) {
      // A repeated name would be a duplicate series.
      Reserve(index, out->interfaces);
      std::uint32_t* slot = FindSlot(index, out->interfaces, i.name);
      if (*slot == 0) {
        out->interfaces.push_back(i);
        *slot = static_cast<std::uint32_t>(out->interfaces.size());
        return true;
      }
      why = std::string(i.name) + " repeats line " +
            std::to_string(out->interfaces[*slot - 1].line);
    }
    out->skipped.push_back({line_no, std::move(why)});
    why.clear();
    return true;
  });
  if (out->interfaces.empty()) {
    *error = std::string(file) + ": no interface line could be read";
    return false;
  }
  return true;
}

}  // namespace sysmetrics::network
