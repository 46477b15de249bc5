#include "diskstats.hpp"

#include "proc_file.hpp"

namespace sysmetrics::disk {

bool ParseDiskStats(std::string_view text, std::string_view file,
                    DiskStats* out, std::string* error) {
  out->devices.clear();
  bool ok = true;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    auto fail = [&](const std::string& what) {
      *error = std::string(file) + ":" + std::to_string(line_no) + ": " + what;
      ok = false;
      return false;
    };
    std::string_view rest = line;
    const std::string_view major = plugin::NextField(&rest);
    if (major.empty()) return true;  // blank line
    const std::string_view minor = plugin::NextField(&rest);
    DiskLine d;
    d.name = plugin::NextField(&rest);
    std::uint64_t unused = 0;
    if (!plugin::ParseU64(major, &unused) ||
        !plugin::ParseU64(minor, &unused)) {
      return fail("major/minor '" + std::string(major) + " " +
                  std::string(minor) + "' are not numbers");
    }
    if (d.name.empty()) return fail("no device name");
    int n = 0;
    for (std::string_view f = plugin::NextField(&rest); !f.empty();
         f = plugin::NextField(&rest)) {
      if (n == kMaxStats) {
        return fail(std::string(d.name) + " has more than 20 fields");
      }
      if (!plugin::ParseU64(f, &d.v[n])) {
        return fail(std::string(d.name) + " field " + std::to_string(n + 4) +
                    " '" + std::string(f) + "' is not a number");
      }
      ++n;
    }
    if (n != 11 && n != 15 && n != 17) {
      return fail(std::string(d.name) + " has " + std::to_string(n + 3) +
                  " fields, want 14, 18 or 20");
    }
    d.stats = n;
    out->devices.push_back(d);
    return true;
  });
  return ok;
}

}  // namespace sysmetrics::disk
