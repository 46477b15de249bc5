// The exposition formats' number: how a sample value, an option default or
// a duration in a message is printed. Pure functions; thread-safe.
#pragma once

#include <string>

namespace sysmetrics {

// Appends the shortest text that parses back to exactly v ("42", "0.25",
// "1e+21", "NaN", "+Inf", "-Inf").
void AppendValue(std::string& out, double v);

}  // namespace sysmetrics
