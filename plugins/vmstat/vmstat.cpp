#include "vmstat.hpp"

#include <algorithm>

#include "name_index.hpp"

namespace sysmetrics::vmstat {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

[[gnu::cold, gnu::noinline]] std::string BadName(std::string_view name) {
  return "field name '" + std::string(name) +
         "' has a character other than [A-Za-z0-9_]";
}

// The parse when the lines hold out->names, in order, and every value is a
// number: fills out->fields and returns true. Returns false (out->fields
// then partial) at the first line that differs, for ParseAnyNames.
bool ParseKnownNames(std::string_view text, VmStat* out) {
  if (out->names.empty()) return false;
  const std::string_view names = out->names;
  std::size_t at = 0;  // the next expected name in names
  bool same = true;
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    VmStatField f{plugin::NextField(&rest), 0, line_no};
    if (f.name.empty()) return true;  // blank
    const std::size_t end = at + f.name.size();
    if (end >= names.size() || names[end] != '\n' ||
        names.substr(at, f.name.size()) != f.name ||
        !plugin::ParseU64(plugin::NextField(&rest), &f.value)) {
      same = false;
      return false;
    }
    at = end + 1;
    out->fields.push_back(f);
    return true;
  });
  return same && at == names.size();
}

// The parse of any text: validates each name and finds repeats with an
// index.
void ParseAnyNames(std::string_view text, VmStat* out) {
  plugin::ResetNameIndex(&out->index);
  plugin::ForEachLine(text, [&](std::size_t line_no, std::string_view line) {
    std::string_view rest = line;
    VmStatField f{plugin::NextField(&rest), 0, line_no};
    if (f.name.empty()) return true;  // blank
    const std::string_view value = plugin::NextField(&rest);
    std::string why;
    if (!std::all_of(f.name.begin(), f.name.end(), IsNameChar)) {
      why = BadName(f.name);
    } else if (value.empty()) {
      why = std::string(f.name) + ": no value";
    } else if (!plugin::ParseU64(value, &f.value)) {
      why = std::string(f.name) + ": value '" + std::string(value) +
            "' is not a number";
    } else if (const VmStatField* first =
                   plugin::AppendUnique(&out->index, &out->fields, f)) {
      why =
          std::string(f.name) + " repeats line " + std::to_string(first->line);
    } else {
      return true;
    }
    out->skipped.push_back({line_no, std::move(why)});
    return true;
  });
}

}  // namespace

bool ParseVmStat(std::string_view text, std::string_view file, VmStat* out,
                 std::string* error) {
  plugin::ClearForReuse(&out->fields);
  out->skipped.clear();
  out->same_names = ParseKnownNames(text, out);
  if (!out->same_names) {
    out->fields.clear();
    ParseAnyNames(text, out);
    // Only a clean parse's names are known good: each valid, none repeated.
    out->names.clear();
    if (out->skipped.empty()) {
      for (const VmStatField& f : out->fields) {
        out->names.append(f.name).push_back('\n');
      }
    }
  }
  if (out->fields.empty()) {
    *error = std::string(file) + ": no 'name value' line could be read";
    return false;
  }
  return true;
}

}  // namespace sysmetrics::vmstat
