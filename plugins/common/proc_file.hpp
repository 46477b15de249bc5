// Plugin-side helpers shared by the built-in collectors: reading a /proc file
// into a reused buffer, and the small tokenizing and number parsing every
// /proc parser needs. Compiled into each plugin (plugins link nothing from
// the host). Pure functions except ReadFileInto; all thread-compatible.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace sysmetrics::plugin {

// Reads the whole file at path into *buf (cleared first; capacity kept), in
// as few read(2) calls as the file allows. /proc files report size 0, so it
// reads until EOF. On failure returns false and sets *error to
// "<path>: <strerror>".
bool ReadFileInto(const std::string& path, std::string* buf,
                  std::string* error);

// One file a collector reads on every scrape. On procfs the file is opened
// once and read again from offset 0 (the kernel formats it anew on each
// read), which saves an open and a close per scrape; any other file system
// (a fixture tree, a copy) is opened and closed each time, so a replaced
// file is seen. A failed read on a kept descriptor closes it and retries
// once with a fresh open. One owner at a time: not thread-safe.
class ProcFile {
 public:
  explicit ProcFile(std::string path) : path_(std::move(path)) {}
  ~ProcFile();
  ProcFile(const ProcFile&) = delete;
  ProcFile& operator=(const ProcFile&) = delete;

  // As ReadFileInto.
  bool Read(std::string* buf, std::string* error);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;  // kept open only on procfs
};

// Splits text into lines; calls f(line_number (1-based), line) for each.
// A final line without '\n' is passed too.
template <class F>
void ForEachLine(std::string_view text, F&& f) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line =
        nl == std::string_view::npos ? text : text.substr(0, nl);
    ++line_no;
    if (!f(line_no, line)) return;
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Returns the next whitespace-separated field of *s and consumes it; empty
// when none is left.
inline std::string_view NextField(std::string_view* s) {
  std::size_t i = 0;
  while (i < s->size() && ((*s)[i] == ' ' || (*s)[i] == '\t')) ++i;
  std::size_t j = i;
  while (j < s->size() && (*s)[j] != ' ' && (*s)[j] != '\t') ++j;
  const std::string_view field = s->substr(i, j - i);
  s->remove_prefix(j);
  return field;
}

// Parses a whole field as a decimal uint64 (no sign, no spaces, no
// overflow).
inline bool ParseU64(std::string_view field, std::uint64_t* out) {
  if (field.empty()) return false;
  const auto r =
      std::from_chars(field.data(), field.data() + field.size(), *out);
  return r.ec == std::errc() && r.ptr == field.data() + field.size();
}

// Writes "where: what" into a C error buffer for sm_plugin.collect.
void WriteError(char* err, std::size_t err_len, std::string_view message);

}  // namespace sysmetrics::plugin
