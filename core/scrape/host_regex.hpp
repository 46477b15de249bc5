// The regular expressions of the host table (ABI 1.3): plugins compile and
// search through these instead of each carrying std::regex, whose code
// would otherwise be mapped once per plugin. C entry points: nothing
// thrown crosses them.
#pragma once

#include <sysmetrics/plugin.h>

#include <cstddef>

namespace sysmetrics {

// ECMAScript syntax (std::regex). NULL with err filled (cut to err_size,
// NUL-terminated; err may be NULL) when the pattern does not compile or
// memory runs out.
sm_regex* HostRegexCompile(sm_host* host, const char* pattern, char* err,
                           std::size_t err_size);
// 1 if re matches somewhere in text[0, len), 0 if not, -1 if the engine
// gave up (std::regex_error: too complex for this text).
int HostRegexSearch(const sm_regex* re, const char* text, std::size_t len);
// NULL is ignored.
void HostRegexFree(sm_regex* re);

}  // namespace sysmetrics
