// Invariants of the skipped lines every /proc parser reports (plugin.h,
// contract 8), shared by the parser fuzz targets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "proc_file.hpp"

namespace sysmetrics::fuzz {

// Lines as ForEachLine counts them: a final line without '\n' counts too.
inline std::size_t LineCount(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) n += c == '\n';
  return n + (!text.empty() && text.back() != '\n');
}

// Each skipped line is a line of text, in strictly increasing order, with a
// reason.
inline void CheckSkipped(std::string_view text,
                         const std::vector<plugin::SkippedLine>& skipped) {
  const std::size_t lines = LineCount(text);
  for (std::size_t i = 0; i < skipped.size(); ++i) {
    const plugin::SkippedLine& s = skipped[i];
    FUZZ_CHECK(s.line >= 1 && s.line <= lines,
               "skipped line " + std::to_string(s.line) + " of " +
                   std::to_string(lines));
    FUZZ_CHECK(i == 0 || skipped[i - 1].line < s.line,
               "skipped lines not strictly increasing at line " +
                   std::to_string(s.line));
    FUZZ_CHECK(!s.reason.empty(),
               "no reason for line " + std::to_string(s.line));
  }
}

}  // namespace sysmetrics::fuzz
