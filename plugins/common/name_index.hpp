// AppendUnique: appends a parsed line to a vector unless a line with the
// same name is already there, with a hash index (open addressing, linear
// probing) kept beside the vector so that a file of thousands of devices
// costs no quadratic scan and, once the index has grown, no allocation.
//
// Line is any struct with a std::string_view member `name`. The index is
// scratch owned by the caller and reused from parse to parse: clear it with
// ResetNameIndex at the start of each parse. Header-only, plugin side;
// thread-compatible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sysmetrics::plugin {

namespace detail {

// FNV-1a: names are short, and this is inline and cheap per byte.
inline std::uint64_t HashName(std::string_view name) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// The slot of table (a slot holds an index into lines plus one, 0 when
// empty) that holds name, or the empty slot where it would go. The table
// is never full (see Reserve).
template <class Line>
std::uint32_t* FindSlot(std::vector<std::uint32_t>& table,
                        const std::vector<Line>& lines, std::string_view name) {
  const std::size_t mask = table.size() - 1;
  for (std::size_t i = HashName(name) & mask;; i = (i + 1) & mask) {
    std::uint32_t& slot = table[i];
    if (slot == 0 || lines[slot - 1].name == name) return &slot;
  }
}

// Keeps the table (a power of two in size) at most half full with one more
// line, rehashing what it holds when it grows.
template <class Line>
void Reserve(std::vector<std::uint32_t>& table,
             const std::vector<Line>& lines) {
  if (table.size() >= 2 * (lines.size() + 1)) return;
  std::size_t size = std::max<std::size_t>(table.size(), 64);
  while (size < 2 * (lines.size() + 1)) size *= 2;
  table.assign(size, 0);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    *FindSlot(table, lines, lines[i].name) = static_cast<std::uint32_t>(i + 1);
  }
}

}  // namespace detail

// Empties the index for a new parse (keeps its capacity).
inline void ResetNameIndex(std::vector<std::uint32_t>* index) {
  std::fill(index->begin(), index->end(), 0);
}

// Appends line to *lines and returns nullptr, or returns the line already
// in *lines with the same name (and appends nothing). *index must have been
// reset at the start of the parse and only grown by this function since.
template <class Line>
const Line* AppendUnique(std::vector<std::uint32_t>* index,
                         std::vector<Line>* lines, const Line& line) {
  detail::Reserve(*index, *lines);
  std::uint32_t* slot = detail::FindSlot(*index, *lines, line.name);
  if (*slot != 0) return &(*lines)[*slot - 1];
  lines->push_back(line);
  *slot = static_cast<std::uint32_t>(lines->size());
  return nullptr;
}

}  // namespace sysmetrics::plugin
