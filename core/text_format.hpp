// Prometheus text exposition format 0.0.4: the serializer.
//
// Small free functions that append to a caller-owned std::string, so a
// scrape can reuse one right-sized buffer. Output never depends on the
// process locale: numbers go through std::to_chars. Written to the format
// spec (https://prometheus.io/docs/instrumenting/exposition_formats/):
// HELP escapes '\' and newline, label values escape '\', '"' and newline,
// values print as NaN, +Inf, -Inf or the shortest round-trip decimal.
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "metric_set.hpp"

namespace sysmetrics {

inline constexpr std::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends the shortest text that parses back to exactly v ("42", "0.25",
// "1e+21", "NaN", "+Inf", "-Inf").
void AppendValue(std::string& out, double v);
void AppendEscapedHelp(std::string& out, std::string_view help);
void AppendEscapedLabelValue(std::string& out, std::string_view value);

// Appends one family: # HELP, # TYPE and its samples, skipping dropped
// duplicates. A family without samples is left out entirely.
void AppendFamilyText(std::string& out, const MetricSet& set,
                      const MetricSet::Family& family);

// Appends every family of the set, in order.
void AppendSetText(std::string& out, const MetricSet& set);

}  // namespace sysmetrics
