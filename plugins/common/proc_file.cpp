#include "proc_file.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "text.hpp"

namespace sysmetrics::plugin {

namespace {

std::string ErrnoMessage(const std::string& path, int err) {
  return path + ": " + ErrnoText(err);
}

// Gives back the memory of a buffer that is far larger than what it holds.
void ShrinkIfOversized(std::string* buf) {
  if (buf->capacity() > kKeepBufferBytes && buf->capacity() / 4 > buf->size()) {
    buf->shrink_to_fit();
  }
}

// errno-like code for a file above kMaxFileBytes (not a real errno value).
constexpr int kTooLarge = -1;

// Reads fd from offset 0 to EOF into *buf with pread, so a descriptor kept
// open reads the file afresh. Returns 0, an errno value or kTooLarge; *buf
// is empty on failure.
int ReadAll(int fd, std::string* buf) {
  // Not cleared first: growing to capacity below zero-fills only what lies
  // past the current size, and the last read's bytes, which pread
  // overwrites, need no zeroing (it showed as memset in a scrape's profile).
  if (buf->capacity() < 4096) buf->reserve(4096);
  std::size_t size = 0;
  for (;;) {
    if (buf->capacity() - size < 1024) {
      buf->reserve(std::min(buf->capacity() * 2, kMaxFileBytes + 1));
    }
    // Grow to capacity so read() can fill the spare room; trimmed below.
    buf->resize(std::min(buf->capacity(), kMaxFileBytes + 1));
    const ssize_t n = ::pread(fd, buf->data() + size, buf->size() - size,
                              static_cast<off_t>(size));
    if (n < 0 && errno == EINTR) continue;
    const int err = n < 0 ? errno : 0;
    if (n > 0) size += static_cast<std::size_t>(n);
    if (err != 0 || size > kMaxFileBytes) {
      buf->clear();
      ShrinkIfOversized(buf);
      return err != 0 ? err : kTooLarge;
    }
    if (n == 0) break;
  }
  buf->resize(size);
  ShrinkIfOversized(buf);
  return 0;
}

std::string ReadError(const std::string& path, int err) {
  if (err == kTooLarge) {
    return path + ": larger than the " + std::to_string(kMaxFileBytes >> 20) +
           " MiB read limit; not read";
  }
  return ErrnoMessage(path, err);
}

// Opens path for reading without blocking (a FIFO with no writer would
// block open() itself) and checks that it is a regular file. Returns the
// descriptor, or -1 with *error set and *err_no set to open's errno (0 for
// a file that is not regular).
int OpenRegular(const std::string& path, std::string* error, int* err_no) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *err_no = errno;
    *error = ErrnoMessage(path, *err_no);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *err_no = 0;
    *error = path + ": not a regular file";
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool ReadFileInto(const std::string& path, std::string* buf,
                  std::string* error) {
  buf->clear();
  int err_no = 0;
  const int fd = OpenRegular(path, error, &err_no);
  if (fd < 0) return false;
  const int err = ReadAll(fd, buf);
  ::close(fd);
  if (err != 0) {
    *error = ReadError(path, err);
    return false;
  }
  return true;
}

ProcFile::~ProcFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool ProcFile::Read(std::string* buf, std::string* error) {
  errno_ = 0;
  if (fd_ >= 0) {
    const int err = ReadAll(fd_, buf);
    if (err == 0) return true;
    ::close(fd_);  // stale or oversized: fall through to a fresh open
    fd_ = -1;
  }
  buf->clear();
  const int fd = OpenRegular(path_, error, &errno_);
  if (fd < 0) return false;
  const int err = ReadAll(fd, buf);
  struct statfs fs {};
  if (err == 0 && ::fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC) {
    fd_ = fd;
  } else {
    ::close(fd);
  }
  if (err != 0) {
    errno_ = err == kTooLarge ? 0 : err;
    *error = ReadError(path_, err);
    return false;
  }
  return true;
}

void WriteError(char* err, std::size_t err_len, std::string_view message) {
  if (err == nullptr || err_len == 0) return;
  const std::size_t n = std::min(message.size(), err_len - 1);
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

}  // namespace sysmetrics::plugin
