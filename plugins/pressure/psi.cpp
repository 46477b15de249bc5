#include "psi.hpp"

namespace sysmetrics::pressure {
namespace {

// Reads the total= field of a line (after its kind, in rest). On a line
// that cannot be read returns false and sets *why.
bool ReadTotal(std::string_view kind, std::string_view rest,
               std::uint64_t* total, std::string* why) {
  constexpr std::string_view kTotal = "total=";
  for (std::string_view f = plugin::NextField(&rest); !f.empty();
       f = plugin::NextField(&rest)) {
    if (!f.starts_with(kTotal)) continue;
    f.remove_prefix(kTotal.size());
    if (plugin::ParseU64(f, total)) return true;
    *why =
        std::string(kind) + ": total '" + std::string(f) + "' is not a number";
    return false;
  }
  *why = std::string(kind) + ": no total= field";
  return false;
}

}  // namespace

bool ParsePsi(std::string_view text, std::string_view file, Psi* out,
              std::string* error) {
  out->some_us.reset();
  out->full_us.reset();
  out->skipped.clear();
  std::size_t read_on[2] = {};  // line the some and the full line were on
  std::string why;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    const std::string_view kind = plugin::NextField(&rest);
    if (kind.empty()) return true;  // blank
    const int k = kind == "some" ? 0 : kind == "full" ? 1 : -1;
    std::uint64_t total = 0;
    if (k < 0) {
      why = "line kind '" + std::string(kind) + "' is not some or full";
    } else if (ReadTotal(kind, rest, &total, &why)) {
      if (read_on[k] == 0) {
        (k == 0 ? out->some_us : out->full_us) = total;
        read_on[k] = line_no;
        return true;
      }
      why = std::string(kind) + " repeats line " + std::to_string(read_on[k]);
    }
    out->skipped.push_back({line_no, std::move(why)});
    why.clear();
    return true;
  });
  if (!out->some_us && !out->full_us) {
    *error = std::string(file) + ": no some or full line could be read";
    return false;
  }
  return true;
}

}  // namespace sysmetrics::pressure
