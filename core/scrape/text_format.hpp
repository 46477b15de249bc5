// The exposition serializers: Prometheus text format 0.0.4 and OpenMetrics
// 1.0 text, both reading the one MetricSet model.
//
// Small free functions that append to a caller-owned std::string, so a
// scrape can reuse one right-sized buffer. Output never depends on the
// process locale: numbers go through std::to_chars. Written to the format
// spec (https://prometheus.io/docs/instrumenting/exposition_formats/):
// HELP escapes '\' and newline, label values escape '\', '"' and newline,
// values print as NaN, +Inf, -Inf or the shortest round-trip decimal.
// OpenMetrics (https://github.com/OpenObservability/OpenMetrics/blob/main/
// specification/OpenMetrics.md) differs in: a counter family is named
// without "_total" and its samples with it; "# UNIT" lines; "unknown" for
// untyped; HELP also escapes '"'; "# EOF" ends the exposition.
// Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scrape/metric_set.hpp"

namespace sysmetrics {

inline constexpr std::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

enum class ExpositionFormat : std::uint8_t { kText, kOpenMetrics };

// The format to answer a request with, from its Accept header: OpenMetrics
// when application/openmetrics-text (version 1.0.0, 0.0.1 or none) has a
// higher quality than every text/plain (version 0.0.4 or none), text/* or
// */* range; else text 0.0.4, also for a missing or unparsable header.
ExpositionFormat NegotiateFormat(std::string_view accept);

// The OpenMetrics family name of a family: a counter's name less "_total".
std::string_view OpenMetricsFamilyName(std::string_view name, MetricType type);

void AppendEscapedHelp(std::string& out, std::string_view help);
void AppendEscapedLabelValue(std::string& out, std::string_view value);

// Appends one family: # HELP, # TYPE and its samples, skipping dropped
// duplicates. A family without samples is left out entirely.
void AppendFamilyText(std::string& out, const MetricSet& set,
                      const MetricSet::Family& family);

// Appends every family of the set, in order.
void AppendSetText(std::string& out, const MetricSet& set);

// The same in OpenMetrics 1.0; the caller appends kOpenMetricsEof once.
void AppendFamilyOpenMetrics(std::string& out, const MetricSet& set,
                             const MetricSet::Family& family);
void AppendSetOpenMetrics(std::string& out, const MetricSet& set);
inline constexpr std::string_view kOpenMetricsEof = "# EOF\n";

// Either, by format.
inline void AppendFamily(std::string& out, const MetricSet& set,
                         const MetricSet::Family& family,
                         ExpositionFormat format) {
  if (format == ExpositionFormat::kOpenMetrics) {
    AppendFamilyOpenMetrics(out, set, family);
  } else {
    AppendFamilyText(out, set, family);
  }
}
inline void AppendSet(std::string& out, const MetricSet& set,
                      ExpositionFormat format) {
  for (const MetricSet::Family& f : set.families()) {
    AppendFamily(out, set, f, format);
  }
}

}  // namespace sysmetrics
