// Paths the exporter finds relative to its own executable: the plugin
// directory and the TLS module of a build tree or an installation, which
// keep the same layout relative to the binary.
#pragma once

#include <string>
#include <string_view>

namespace sysmetrics {

// relative, resolved against the directory of the running executable (the
// kernel's /proc/self/exe link; not the procfs root collectors read, which
// is configurable), normalized. The current directory stands in for the
// executable's when the link cannot be read.
std::string BesideExecutable(std::string_view relative);

}  // namespace sysmetrics
