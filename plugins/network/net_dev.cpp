#include "net_dev.hpp"

#include "proc_file.hpp"

namespace sysmetrics::network {

bool ParseNetDev(std::string_view text, std::string_view file, NetDev* out,
                 std::string* error) {
  out->interfaces.clear();
  bool ok = true;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    auto fail = [&](const std::string& what) {
      *error = std::string(file) + ":" + std::to_string(line_no) + ": " + what;
      ok = false;
      return false;
    };
    if (line_no == 1) {
      return line.starts_with("Inter-|") ? true
                                         : fail("first header line missing");
    }
    if (line_no == 2) {
      return line.find("face |") != std::string_view::npos
                 ? true
                 : fail("second header line missing");
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (line.find_first_not_of(" \t") == std::string_view::npos) return true;
      return fail("no ':' after the interface name");
    }
    InterfaceLine i;
    std::string_view name = line.substr(0, colon);
    name.remove_prefix(std::min(name.find_first_not_of(" \t"), name.size()));
    if (name.empty()) return fail("empty interface name");
    i.name = name;
    std::string_view rest = line.substr(colon + 1);
    int n = 0;
    for (std::string_view f = plugin::NextField(&rest); !f.empty();
         f = plugin::NextField(&rest)) {
      if (n == kCounters) {
        return fail(std::string(name) + " has more than 16 counters");
      }
      if (!plugin::ParseU64(f, &i.v[n])) {
        return fail(std::string(name) + " counter " + std::to_string(n + 1) +
                    " '" + std::string(f) + "' is not a number");
      }
      ++n;
    }
    if (n != kCounters) {
      return fail(std::string(name) + " has " + std::to_string(n) +
                  " counters, want 16");
    }
    out->interfaces.push_back(i);
    return true;
  });
  if (ok && text.find('\n') == std::string_view::npos) {
    *error = std::string(file) + ": header lines missing";
    return false;
  }
  return ok;
}

}  // namespace sysmetrics::network
