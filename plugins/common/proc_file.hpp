// Plugin-side helpers shared by the built-in collectors: reading a /proc file
// into a reused buffer, and the small tokenizing and number parsing every
// /proc parser needs. Compiled into each plugin (plugins link nothing from
// the host). Pure functions except ReadFileInto; all thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text.hpp"

namespace sysmetrics::plugin {

// The most one read takes from a file. /proc files report size 0, so the
// size is known only by reading; a larger file is refused rather than held
// in memory. The largest a real host writes (net/dev with 10,000
// interfaces, diskstats with 10,000 devices) is under 2 MiB.
inline constexpr std::size_t kMaxFileBytes = 16u << 20;

// A read buffer whose capacity exceeds this and four times what the last
// read put in it is given back, so one huge file does not keep its memory.
inline constexpr std::size_t kKeepBufferBytes = 256u << 10;

// Empties *v for the next parse or collect, keeping its capacity for the
// working size; but gives the memory back when it holds over 64 KiB and the
// fill just ended used under a quarter of it, so one huge file (thousands
// of interfaces for a while) does not keep its memory for good.
template <class V>
void ClearForReuse(V* v) {
  constexpr std::size_t kKeepBytes = 64u << 10;
  if (v->capacity() * sizeof(typename V::value_type) > kKeepBytes &&
      v->capacity() / 4 > v->size()) {
    V().swap(*v);
  } else {
    v->clear();
  }
}

// A line a parser could not read and skipped: its 1-based number and why.
// Parsers collect these in their result's `skipped`; the plugin glue reports
// them to the host (collect.hpp, ReadAndParse).
struct SkippedLine {
  std::size_t line = 0;
  std::string reason;
};

// Reads the whole file at path into *buf (cleared first), in as few read(2)
// calls as the file allows, until EOF. The file is opened so that it cannot
// block (O_NONBLOCK) and must be a regular file (every /proc and /sys file
// is): a FIFO or device in its place is refused, never waited on. On
// failure returns false, leaves *buf empty and sets *error to
// "<path>: <reason>": the errno text, "not a regular file", or "larger than
// the 16 MiB read limit". Capacity is kept unless it is oversized (see
// kKeepBufferBytes).
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
  // The errno value of the last failed Read (ENOENT, EOPNOTSUPP, ...), for
  // a caller to whom some failures mean "absent" rather than an error; 0
  // after a success or a failure that is not an errno (not a regular file,
  // over the read limit).
  int error_number() const { return errno_; }

 private:
  std::string path_;
  int errno_ = 0;
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
  const std::optional<std::uint64_t> v = ParseWhole<std::uint64_t>(field);
  if (v) *out = *v;
  return v.has_value();
}

// Writes "where: what" into a C error buffer for sm_plugin.collect.
void WriteError(char* err, std::size_t err_len, std::string_view message);

}  // namespace sysmetrics::plugin
