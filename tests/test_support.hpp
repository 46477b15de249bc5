// Helpers shared by the tests that run the real host against plugins:
// log capture, temporary directories, text searches.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "log.hpp"

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

// A fresh directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "sysmetrics_test.XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sysmetrics::testing
