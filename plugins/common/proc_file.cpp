#include "proc_file.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace sysmetrics::plugin {

namespace {

std::string ErrnoMessage(const std::string& path, int err) {
  return path + ": " + std::error_code(err, std::generic_category()).message();
}

// Reads fd from offset 0 to EOF into *buf with pread, so a descriptor kept
// open reads the file afresh. Returns 0 or an errno value.
int ReadAll(int fd, std::string* buf) {
  buf->clear();
  if (buf->capacity() < 4096) buf->reserve(4096);
  std::size_t size = 0;
  for (;;) {
    if (buf->capacity() - size < 1024) buf->reserve(buf->capacity() * 2);
    // Grow to capacity so read() can fill the spare room; trimmed below.
    buf->resize(buf->capacity());
    const ssize_t n = ::pread(fd, buf->data() + size, buf->size() - size,
                              static_cast<off_t>(size));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      buf->clear();
      return err;
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  buf->resize(size);
  return 0;
}

int OpenRead(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

}  // namespace

bool ReadFileInto(const std::string& path, std::string* buf,
                  std::string* error) {
  buf->clear();
  const int fd = OpenRead(path);
  if (fd < 0) {
    *error = ErrnoMessage(path, errno);
    return false;
  }
  const int err = ReadAll(fd, buf);
  ::close(fd);
  if (err != 0) {
    *error = ErrnoMessage(path, err);
    return false;
  }
  return true;
}

ProcFile::~ProcFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool ProcFile::Read(std::string* buf, std::string* error) {
  if (fd_ >= 0) {
    if (ReadAll(fd_, buf) == 0) return true;
    ::close(fd_);  // stale: fall through to a fresh open
    fd_ = -1;
  }
  const int fd = OpenRead(path_);
  if (fd < 0) {
    *error = ErrnoMessage(path_, errno);
    buf->clear();
    return false;
  }
  const int err = ReadAll(fd, buf);
  struct statfs fs {};
  if (err == 0 && ::fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC) {
    fd_ = fd;
  } else {
    ::close(fd);
  }
  if (err != 0) {
    *error = ErrnoMessage(path_, err);
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
