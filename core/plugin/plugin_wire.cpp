#include "plugin/plugin_wire.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "common/text.hpp"

namespace sysmetrics::wire {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kHeader = 5;  // u32 length, u8 kind
constexpr std::size_t kReadChunk = std::size_t{1} << 20;

// The smallest encoding of an OptionValue: its type and a bool.
constexpr std::size_t kMinOption = 2;

}  // namespace

void Writer::Raw(const void* p, std::size_t n) {
  buf_.append(static_cast<const char*>(p), n);
}

void Writer::Str(std::string_view s) {
  U32(static_cast<std::uint32_t>(s.size()));
  buf_.append(s);
  buf_.push_back('\0');
}

void Writer::Option(const OptionValue& v) {
  U8(static_cast<std::uint8_t>(v.type));
  switch (v.type) {
    case OptionType::kBool:
      U8(v.b ? 1 : 0);
      break;
    case OptionType::kInt:
      I64(v.i);
      break;
    case OptionType::kDouble:
      F64(v.d);
      break;
    case OptionType::kString:
      Str(v.s);
      break;
    case OptionType::kStringList:
      U32(static_cast<std::uint32_t>(v.list.size()));
      for (const std::string& item : v.list) Str(item);
      break;
  }
}

void Reader::Take(void* out, std::size_t n) {
  if (!ok_ || data_.size() - pos_ < n) {
    ok_ = false;
    std::memset(out, 0, n);
    return;
  }
  std::memcpy(out, data_.data() + pos_, n);
  pos_ += n;
}

const char* Reader::Str(std::size_t* size) {
  const std::uint32_t n = U32();
  // The bytes and the NUL must both be there, and the NUL where it belongs.
  if (!ok_ || data_.size() - pos_ < std::size_t{n} + 1 ||
      data_[pos_ + n] != '\0') {
    ok_ = false;
    if (size != nullptr) *size = 0;
    return "";
  }
  const char* s = data_.data() + pos_;
  pos_ += std::size_t{n} + 1;
  if (size != nullptr) *size = n;
  return s;
}

std::uint32_t Reader::Count(std::size_t min_item) {
  const std::uint32_t n = U32();
  if (!ok_ || (min_item != 0 && (data_.size() - pos_) / min_item < n)) {
    ok_ = false;
    return 0;
  }
  return n;
}

OptionValue Reader::Option() {
  OptionValue out;
  const std::uint8_t type = U8();
  if (type > static_cast<std::uint8_t>(OptionType::kStringList)) Fail();
  if (!ok_) return out;
  out.type = static_cast<OptionType>(type);
  switch (out.type) {
    case OptionType::kBool:
      out.b = U8() != 0;
      break;
    case OptionType::kInt:
      out.i = I64();
      break;
    case OptionType::kDouble:
      out.d = F64();
      break;
    case OptionType::kString:
      out.s = Str();
      break;
    case OptionType::kStringList: {
      const std::uint32_t n = Count(sizeof(std::uint32_t) + 1);
      out.list.reserve(n);
      for (std::uint32_t i = 0; i < n && ok_; ++i) out.list.emplace_back(Str());
      break;
    }
  }
  return out;
}

void EncodeInfo(Writer& w, const PluginInfo& info) {
  w.Str(info.name);
  w.Str(info.version);
  w.Str(info.description);
  w.U32(info.abi_major);
  w.U32(info.abi_minor);
  w.U8(info.nonblocking ? 1 : 0);
  w.U32(static_cast<std::uint32_t>(info.schema.size()));
  for (const OptionSpec& o : info.schema) {
    w.Str(o.key);
    w.Str(o.help);
    w.Option(o.default_value);
  }
}

Result<PluginInfo> DecodeInfo(Reader& r) {
  PluginInfo info;
  info.name = r.Str();
  info.version = r.Str();
  info.description = r.Str();
  info.abi_major = r.U32();
  info.abi_minor = r.U32();
  info.nonblocking = r.U8() != 0;
  const std::uint32_t n = r.Count(2 * (sizeof(std::uint32_t) + 1) + kMinOption);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    OptionSpec spec;
    spec.key = r.Str();
    spec.help = r.Str();
    spec.default_value = r.Option();
    info.schema.push_back(std::move(spec));
  }
  if (!r.ok()) return Status::Error("plugin info cut short or malformed");
  return info;
}

Status WriteFrame(int fd, Kind kind, std::string_view payload) {
  if (payload.size() > kMaxFrame) return Status::Error("frame too large");
  char header[kHeader];
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::memcpy(header, &size, sizeof size);
  header[4] = static_cast<char>(kind);
  // One buffer, so a small frame is one write.
  std::string frame;
  frame.reserve(kHeader + payload.size());
  frame.append(header, kHeader);
  frame.append(payload);
  std::size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::write(fd, frame.data() + done, frame.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Status::Error(std::string("write: ") +
                           (n < 0 ? ErrnoText(errno) : "no progress"));
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

namespace {

// Reads exactly n bytes into out, polling until deadline.
Status ReadExactly(int fd, Clock::time_point deadline, char* out, std::size_t n,
                   bool* timed_out) {
  std::size_t done = 0;
  while (done < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) {
      *timed_out = true;
      return Status::Error("no answer by the deadline");
    }
    pollfd p{fd, POLLIN, 0};
    // Rounded up, so a deadline less than a millisecond away still waits;
    // at most a minute at a time (a far deadline must not overflow).
    const auto wait_ms =
        std::min<std::chrono::milliseconds::rep>(left.count() + 1, 60000);
    const int r = ::poll(&p, 1, static_cast<int>(wait_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::Error("poll: " + ErrnoText(errno));
    if (r == 0) continue;  // the deadline check above decides
    const ssize_t got = ::read(fd, out + done, n - done);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) return Status::Error("read: " + ErrnoText(errno));
    if (got == 0) return Status::Error("end of file");
    done += static_cast<std::size_t>(got);
  }
  return Status::Ok();
}

}  // namespace

Status ReadFrame(int fd, Clock::time_point deadline, std::size_t max,
                 Kind* kind, std::string* payload, bool* timed_out) {
  bool late = false;
  if (timed_out == nullptr) timed_out = &late;
  *timed_out = false;
  char header[kHeader] = {};
  if (Status s = ReadExactly(fd, deadline, header, kHeader, timed_out);
      !s.ok()) {
    return s;
  }
  std::uint32_t size = 0;
  std::memcpy(&size, header, sizeof size);
  if (size > max) {
    return Status::Error("frame of " + std::to_string(size) +
                         " bytes, over the limit of " + std::to_string(max));
  }
  *kind = static_cast<Kind>(static_cast<std::uint8_t>(header[4]));
  // Grown as the bytes arrive: a header alone must not make the reader
  // allocate what it announces.
  payload->clear();
  while (payload->size() < size) {
    const std::size_t done = payload->size();
    const std::size_t chunk = std::min<std::size_t>(size - done, kReadChunk);
    payload->resize(done + chunk);
    if (Status s =
            ReadExactly(fd, deadline, payload->data() + done, chunk, timed_out);
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace sysmetrics::wire
