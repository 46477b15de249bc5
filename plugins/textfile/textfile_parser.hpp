// The textfile collector's parser: Prometheus text format 0.0.4 as written
// by people and scripts, held to the rules Prometheus' own text parser
// (expfmt.TextParser, which node_exporter's textfile collector uses)
// applies:
//  - blank lines and lines of only blanks are skipped; tokens are separated
//    by spaces or tabs; "# HELP name text" (text escapes \\ and \n) and
//    "# TYPE name type" (counter, gauge, histogram, summary, untyped); any
//    other line starting with '#' is a comment
//  - at most one HELP and one TYPE per family, the TYPE before the
//    family's first sample
//  - a sample is name[{label="value",...}] value [timestamp]: metric names
//    [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not
//    starting with "__", no label twice, a trailing comma allowed, values
//    escaping only \\, \" and \n; the value a float (NaN, +Inf, -Inf, Inf
//    allowed in any case), the timestamp an integer
//  - a histogram's samples are name_bucket (with an "le" label that is a
//    float), name_sum and name_count; a summary's name (with a "quantile"
//    label that is a float), name_sum and name_count; a sample of another
//    name starts an untyped family
//  - help texts and label values are valid UTF-8
//  - no two families expose a sample name in common (see ExposedNames):
//    "x_sum" cannot be a family of its own beside a summary "x", nor
//    "x_total" a gauge beside a counter "x"; Prometheus' parser accepts
//    some of these, but the scrape would then hold one name twice
// And, as node_exporter does, a file whose samples carry timestamps is
// refused: Prometheus would attach a time the file's writer chose.
//
// The first violation fails the whole file, with its line number. Pure;
// thread-safe.
#pragma once

#include <sysmetrics/plugin.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sysmetrics::textfile {

struct Sample {
  std::string suffix;  // "", "_bucket", "_sum" or "_count"
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped
  double value = 0;
};

struct Family {
  std::string name;
  std::string help;  // unescaped; empty without a HELP line
  sm_metric_type type = SM_METRIC_UNTYPED;
  std::size_t line = 0;  // where it was first named
  std::vector<Sample> samples;
};

struct ParsedFile {
  std::vector<Family> families;  // in order of first appearance
};

// "counter", "gauge", "histogram", "summary" or "untyped".
const char* TypeName(sm_metric_type t);

// The names a family's samples and headers occupy in an exposition, in
// either format: its own; a histogram's name_bucket, name_sum and
// name_count; a summary's name_sum and name_count; a counter's name with
// "_total" added or removed (OpenMetrics names a counter family without
// it, its samples with it). Two families that share one of these cannot
// both be exposed. The same rule as the exporter's across collectors.
std::vector<std::string> ExposedNames(const Family& f);

// Parses text into *out. On the first violation returns false and sets
// *error to "line N: what".
bool ParseTextfile(std::string_view text, ParsedFile* out, std::string* error);

}  // namespace sysmetrics::textfile
