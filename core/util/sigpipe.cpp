#include "util/sigpipe.hpp"

#include <csignal>
#include <mutex>

namespace sysmetrics {

void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace sysmetrics
