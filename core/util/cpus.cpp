#include "util/cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace sysmetrics {

std::size_t CpusAllowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    return std::max(1U, std::thread::hardware_concurrency());
  }
  return static_cast<std::size_t>(std::max(1, CPU_COUNT(&set)));
}

}  // namespace sysmetrics
