// FUZZ_CHECK: the invariant check of the fuzz targets.
//
// A violated invariant prints what was expected on stderr and traps, which
// libFuzzer reports like any other crash and saves the input for. assert()
// would not do: it vanishes under -DNDEBUG, and a check that depends on the
// build type is one nobody notices is off.
#pragma once

#include <cstdio>
#include <string_view>

namespace sysmetrics::fuzz {

[[noreturn]] inline void FailCheck(const char* file, int line,
                                   std::string_view what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %.*s\n", file, line,
               static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  __builtin_trap();
}

}  // namespace sysmetrics::fuzz

// what is evaluated only on failure, so it may build a message freely.
#define FUZZ_CHECK(cond, what)                                 \
  do {                                                         \
    if (!(cond)) {                                             \
      ::sysmetrics::fuzz::FailCheck(__FILE__, __LINE__, what); \
    }                                                          \
  } while (false)
