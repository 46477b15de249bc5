// Helpers shared by the tests that run the real host against plugins:
// log capture, temporary directories, text searches.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "util/log.hpp"

namespace sysmetrics::testing {

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The lines of text that contain needle.
inline std::vector<std::string> LinesWith(const std::string& text,
                                          const std::string& needle) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (Contains(line, needle)) lines.push_back(line);
  }
  return lines;
}

// Captures log lines for one test.
class LogCapture {
 public:
  LogCapture() {
    InitLoggingToStream(out_, LogFormat::kText, LogLevel::kDebug);
  }
  ~LogCapture() { InitLogging(LogFormat::kText, LogLevel::kOff); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return out_.str(); }
  bool Has(const std::string& s) const { return Contains(text(), s); }

 private:
  std::ostringstream out_;
};

}  // namespace sysmetrics::testing
