#include "proc_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace sysmetrics::plugin {

bool ReadFileInto(const std::string& path, std::string* buf,
                  std::string* error) {
  buf->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error =
        path + ": " + std::error_code(errno, std::generic_category()).message();
    return false;
  }
  if (buf->capacity() < 4096) buf->reserve(4096);
  std::size_t size = 0;
  for (;;) {
    if (buf->capacity() - size < 1024) buf->reserve(buf->capacity() * 2);
    // Grow to capacity so read() can fill the spare room; trimmed below.
    buf->resize(buf->capacity());
    const ssize_t n = ::read(fd, buf->data() + size, buf->size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = path + ": " +
               std::error_code(errno, std::generic_category()).message();
      ::close(fd);
      buf->clear();
      return false;
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  buf->resize(size);
  ::close(fd);
  return true;
}

void WriteError(char* err, std::size_t err_len, std::string_view message) {
  if (err == nullptr || err_len == 0) return;
  const std::size_t n = std::min(message.size(), err_len - 1);
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

}  // namespace sysmetrics::plugin
