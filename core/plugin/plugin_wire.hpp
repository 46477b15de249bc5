// The wire between the exporter and a plugin helper process.
//
// An isolated collector's plugin runs in a helper process (plugin_helper.hpp)
// that speaks to the exporter over two pipes in frames: a 4-byte length, a
// 1-byte kind, then the payload. Payloads are built from a few primitives
// (integers and doubles in host byte order: both ends are the same binary on
// the same machine; strings as a 4-byte length, the bytes and a NUL, so a
// decoded string can be handed to C code in place).
//
// The exporter trusts nothing that comes back: every read is bounds-checked,
// a string must end in its NUL, counts must fit in what is left, and a frame
// longer than the reader's limit is refused unread. A failed read leaves the
// Reader failed; every later read returns zeros, so decoders check ok() once
// at the end (or before acting on what they read).
//
// Thread-compatible: one Reader or Writer per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugin/plugin_loader.hpp"
#include "plugin/plugin_options.hpp"
#include "util/status.hpp"

namespace sysmetrics::wire {

enum class Kind : std::uint8_t {
  kHello = 1,    // helper -> exporter: the plugin loaded; its PluginInfo
  kFail = 2,     // helper -> exporter: it did not; the reason
  kCreate = 3,   // exporter -> helper: create the instance (options, roots)
  kCreated = 4,  // helper -> exporter: create's status and error text
  kCollect = 5,  // exporter -> helper: collect once
  kResult = 6,   // helper -> exporter: collect's outcome and metrics
};

class Writer {
 public:
  void U8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v) { Raw(&v, sizeof v); }
  void U64(std::uint64_t v) { Raw(&v, sizeof v); }
  void I64(std::int64_t v) { Raw(&v, sizeof v); }
  void F64(double v) { Raw(&v, sizeof v); }
  void Str(std::string_view s);
  void Option(const OptionValue& v);

  std::string& buffer() { return buf_; }
  void Clear() { buf_.clear(); }

 private:
  void Raw(const void* p, std::size_t n);
  std::string buf_;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::uint8_t U8() { return Number<std::uint8_t>(); }
  std::uint32_t U32() { return Number<std::uint32_t>(); }
  std::uint64_t U64() { return Number<std::uint64_t>(); }
  std::int64_t I64() { return Number<std::int64_t>(); }
  double F64() { return Number<double>(); }
  // A NUL-terminated string inside the data (valid while the data is);
  // "" once failed. size, if set, receives its length.
  const char* Str(std::size_t* size = nullptr);
  // A count of items each at least min_item bytes long: fails if that many
  // cannot fit in what is left (so a count never drives a huge reserve).
  std::uint32_t Count(std::size_t min_item);
  // An option value; an empty one (kBool false) once failed.
  OptionValue Option();

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == data_.size(); }
  void Fail() { ok_ = false; }

 private:
  // Copies the next n bytes to out, or zeros it and fails the Reader.
  void Take(void* out, std::size_t n);
  template <class T>
  T Number() {
    T v{};
    Take(&v, sizeof v);
    return v;
  }
  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// PluginInfo as the helper reports it (the file is the exporter's own
// knowledge and is not sent).
void EncodeInfo(Writer& w, const PluginInfo& info);
// Reads what EncodeInfo wrote; an error if r fails on the way.
Result<PluginInfo> DecodeInfo(Reader& r);

// The largest frame the exporter reads from a helper.
inline constexpr std::size_t kMaxFrame = std::size_t{256} << 20;

// Writes one frame to fd, blocking until all of it is written. Fails when
// the other end is gone (EPIPE; SIGPIPE must be ignored) or on any error.
Status WriteFrame(int fd, Kind kind, std::string_view payload);

// Reads one frame from fd into payload, waiting until deadline at most.
// Fails on end of file (the other end closed or died), a frame longer than
// max, or the deadline; *timed_out tells the last apart.
Status ReadFrame(int fd, std::chrono::steady_clock::time_point deadline,
                 std::size_t max, Kind* kind, std::string* payload,
                 bool* timed_out = nullptr);

}  // namespace sysmetrics::wire
