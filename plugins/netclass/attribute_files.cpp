#include "attribute_files.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace sysmetrics::netclass {
namespace {

// A sysfs attribute is at most a page and is handed over whole by one
// read(2) (node's util.SysReadFile relies on it); a larger file is no sysfs
// attribute.
constexpr std::size_t kMaxAttributeBytes = 4096;

// How an attribute is opened: O_NONBLOCK so that a FIFO in a fixture tree
// cannot block the open; O_NOFOLLOW as a link in an attribute's place is
// not an attribute.
constexpr int kAttributeFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;

// Whether the directory entry e, in the directory open as dir, is a regular
// file (then it is no interface).
bool IsRegular(int dir, const dirent& e) {
  if (e.d_type != DT_UNKNOWN) return e.d_type == DT_REG;
  struct stat st {};  // a file system without d_type
  return ::fstatat(dir, e.d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

}  // namespace

AttributeFiles::AttributeFiles(std::string dir, std::vector<const char*> files,
                               Keep keep, std::size_t max_held_fds)
    : path_(std::move(dir)),
      files_(std::move(files)),
      keep_(keep),
      max_held_fds_(max_held_fds) {}

AttributeFiles::~AttributeFiles() {
  for (Entry& e : entries_) Close(&e);
  CloseCurrentDir();
  if (dir_ != nullptr) ::closedir(dir_);
}

int AttributeFiles::List() {
  CloseCurrentDir();
  current_ = nullptr;
  previous_.swap(entries_);
  entries_.clear();
  const int err = ReadListing();
  if (err != 0) {
    entries_.clear();
    if (dir_ != nullptr) ::closedir(dir_);  // opened afresh next time
    dir_ = nullptr;
  }
  Reconcile();
  return err;
}

// Reads the class directory into entries_ (names and inode numbers, no
// descriptors), sorted by name. Reopens the directory unless descriptors
// are held, so a fixture tree that was replaced is seen.
int AttributeFiles::ReadListing() {
  if (dir_ != nullptr && !hold_) {
    ::closedir(dir_);
    dir_ = nullptr;
  }
  if (dir_ == nullptr) {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct statfs fs {};
    on_sysfs_ = ::fstatfs(fd, &fs) == 0 && fs.f_type == SYSFS_MAGIC;
    hold_ = keep_ == Keep::kAlways || on_sysfs_;
    dir_ = ::fdopendir(fd);  // owns fd from here on success
    if (dir_ == nullptr) {
      const int err = errno;
      ::close(fd);
      return err;
    }
  } else {
    ::rewinddir(dir_);  // kernfs lists afresh from offset 0
  }
  for (;;) {
    errno = 0;
    // A stream of our own: readdir is thread-safe on it (glibc, POSIX 2024).
    const dirent* e = ::readdir(dir_);  // NOLINT(concurrency-mt-unsafe)
    if (e == nullptr) {
      if (errno != 0) return errno;
      break;
    }
    const std::string_view name = e->d_name;
    if (name == "." || name == ".." || IsRegular(::dirfd(dir_), *e)) continue;
    entries_.emplace_back();
    entries_.back().name.assign(name);
    entries_.back().ino = e->d_ino;
  }
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return 0;
}

// Moves the descriptors held for an entry of the previous listing to the
// same entry (same name, same inode number) of this one; closes the rest.
void AttributeFiles::Reconcile() {
  auto p = previous_.begin();
  for (Entry& e : entries_) {
    while (p != previous_.end() && p->name < e.name) ++p;
    if (p != previous_.end() && p->name == e.name && p->ino == e.ino) {
      e.fd.swap(p->fd);
    }
  }
  for (Entry& old : previous_) Close(&old);
  previous_.clear();
}

int AttributeFiles::Open(std::size_t i) {
  CloseCurrentDir();
  current_ = nullptr;
  Entry& e = entries_[i];
  if (!e.fd.empty()) {
    current_ = &e;
    return 0;
  }
  const int dir = ::openat(::dirfd(dir_), e.name.c_str(),
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return errno;
  if (hold_ && held_fds_ + files_.size() <= max_held_fds_ && Hold(&e, dir)) {
    ::close(dir);
    current_ = &e;
  } else {
    current_dir_ = dir;
  }
  return 0;
}

// Opens every attribute of entry, whose directory is open as dir, and
// keeps the descriptors. Returns false, holding nothing, when the process
// is out of descriptors (the entry is then read without holding).
bool AttributeFiles::Hold(Entry* entry, int dir) {
  entry->fd.assign(files_.size(), -ENOENT);
  for (std::size_t k = 0; k < files_.size(); ++k) {
    const int fd = ::openat(dir, files_[k], kAttributeFlags);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
      Close(entry);
      return false;
    }
    entry->fd[k] = fd >= 0 ? fd : -errno;
    if (fd >= 0) ++held_fds_;
  }
  return true;
}

int AttributeFiles::Read(std::size_t k, std::string_view* value) {
  int fd = -1;
  if (current_ != nullptr) {
    if (current_->fd.empty()) return ENODEV;  // closed by an earlier Read
    if (current_->fd[k] < 0) return -current_->fd[k];
    fd = current_->fd[k];
  } else {
    fd = ::openat(current_dir_, files_[k], kAttributeFlags);
    if (fd < 0) return errno;
  }
  ssize_t got = 0;
  do {
    // A held file is read from offset 0 again, which makes kernfs format
    // the value anew; a fresh one with read(2), as pread fails on a FIFO.
    got = current_ != nullptr ? ::pread(fd, buf_, sizeof buf_, 0)
                              : ::read(fd, buf_, sizeof buf_);
  } while (got < 0 && errno == EINTR);
  const int err = got < 0 ? errno : 0;
  if (current_ == nullptr) ::close(fd);
  if (err == ENODEV && current_ != nullptr) Close(current_);
  if (err != 0) return err;
  if (static_cast<std::size_t>(got) > kMaxAttributeBytes) return EFBIG;
  *value = std::string_view(buf_, static_cast<std::size_t>(got));
  return 0;
}

void AttributeFiles::Close(Entry* entry) {
  for (const int fd : entry->fd) {
    if (fd < 0) continue;
    ::close(fd);
    --held_fds_;
  }
  entry->fd.clear();
}

void AttributeFiles::CloseCurrentDir() {
  if (current_dir_ >= 0) ::close(current_dir_);
  current_dir_ = -1;
}

}  // namespace sysmetrics::netclass
