#include "util/trust.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

#include "common/text.hpp"

namespace sysmetrics {
namespace {

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Status CheckTrusted(const std::filesystem::path& path) {
  std::error_code ec;
  // The file or directory itself, then each directory above it, after
  // symlinks are resolved (a link is only as safe as what it points to).
  std::filesystem::path p = std::filesystem::canonical(path, ec);
  if (ec) {
    return Status::Error("cannot resolve " + path.string() + ": " +
                         ec.message());
  }
  const uid_t self = geteuid();
  for (bool first = true;; first = false) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      return Status::Error("cannot stat " + p.string() + ": " +
                           ErrnoText(errno));
    }
    if (st.st_uid != 0 && st.st_uid != self) {
      return Status::Error(p.string() + " is owned by uid " +
                           std::to_string(st.st_uid) +
                           ", not root or the service's user (uid " +
                           std::to_string(self) + ")");
    }
    const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (first || !sticky_dir)) {
      return Status::Error(
          p.string() + " is writable by " +
          ((st.st_mode & S_IWOTH) != 0 ? "everyone" : "its group") + " (mode " +
          ModeText(st.st_mode) + ")");
    }
    if (!p.has_parent_path() || p.parent_path() == p) return Status::Ok();
    p = p.parent_path();
  }
}

}  // namespace sysmetrics
