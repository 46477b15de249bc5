#include "net_dev.hpp"

#include <string.h>  // memrchr (GNU)

#include <algorithm>

#include "name_index.hpp"
#include "proc_file.hpp"
#include "text.hpp"

namespace sysmetrics::network {
namespace {

using plugin::NextField;
using plugin::ParseU64;

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
  plugin::ResetNameIndex(&out->name_index);
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
      const auto* earlier =
          plugin::AppendUnique(&out->name_index, &out->interfaces, i);
      if (earlier == nullptr) return true;
      why = std::string(i.name) + " repeats line " +
            std::to_string(earlier->line);
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
