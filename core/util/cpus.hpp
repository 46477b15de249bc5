// The CPUs this process may run on.
#pragma once

#include <cstddef>

namespace sysmetrics {

// How many CPUs the process's affinity mask allows (taskset, a cpuset), at
// least 1; the hardware's count when the mask cannot be read. Read on every
// call: the mask can change while the process runs.
std::size_t CpusAllowed();

}  // namespace sysmetrics
