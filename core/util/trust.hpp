// Whether a file the service loads code from is safe to load: plugins, their
// directory, the TLS module. Thread-safe (reads the file system only).
#pragma once

#include <filesystem>

#include "util/status.hpp"

namespace sysmetrics {

// Loading code is a trust boundary: it runs as the service. OK when path
// (a file or directory) is safe to load from, else an error saying why: it
// and every directory above it must be owned by root or by this process's
// user, and not writable by group or others (a directory above it may be,
// with the sticky bit, as /tmp is, since then nobody else can rename what
// is inside). Symlinks are resolved first: a link is only as safe as what
// it points to.
Status CheckTrusted(const std::filesystem::path& path);

// What to tell the operator after CheckTrusted fails.
inline constexpr const char* kTrustHint =
    " (fix the ownership and mode, or set plugins.check_permissions = false "
    "on a development machine)";

}  // namespace sysmetrics
