// A strict parser for the Prometheus text exposition format 0.0.4: the
// oracle of the serializer fuzz target.
//
// It accepts what the format allows and, where the format allows several
// spellings, only the one the serializer writes, so anything it rejects is
// a defect of the output. Written from the format description
// (https://prometheus.io/docs/instrumenting/exposition_formats/) and
// sharing no code with core/, so a misreading in one does not hide the same
// misreading in the other. The rules:
//  - the text is valid UTF-8 (RFC 3629) and every line, the last one
//    included, ends in '\n'; no empty lines, no leading blanks
//  - "# HELP <name> <text>" (text escapes only \\ and \n) and
//    "# TYPE <name> <type>", type one of counter, gauge, untyped, summary,
//    histogram; at most one of each per family, both before its first
//    sample; any other line starting with '#' is a comment
//  - a sample is <name>[{<label>="<value>"[,<label>="<value>"]...}]
//    <value>[ <timestamp>], tokens separated by one space; metric names
//    match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and
//    do not start with "__", no label name twice in a sample, label values
//    escape only \\, \" and \n; values are decimal floats, NaN, +Inf or
//    -Inf (finite ones in range); timestamps are integers
//  - a sample belongs to the family of the HELP/TYPE lines before it when
//    its name is the family's name (not for a histogram) or, for a summary,
//    the name plus _sum or _count, for a histogram plus _bucket, _sum or
//    _count; otherwise it starts an untyped family of its own name
//  - a family's lines are contiguous; every name (a family's, and the
//    suffixed names a summary or histogram reserves) belongs to one family
//    only; no series (sample name and label set) appears twice
//
// Pure function of its input; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sysmetrics::fuzz {

struct ParsedSample {
  std::string name;  // the family name plus any suffix
  // In order of appearance, values unescaped.
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  bool has_timestamp = false;
};

struct ParsedFamily {
  std::string name;
  bool has_help = false;
  std::string help;  // unescaped
  bool has_type = false;
  std::string type;       // "untyped" ("unknown") when there is no TYPE
  bool has_unit = false;  // OpenMetrics only
  std::string unit;
  bool help_first = false;  // HELP came before TYPE (both present)
  std::vector<ParsedSample> samples;
};

struct Exposition {
  std::vector<ParsedFamily> families;  // in order of appearance
  std::size_t comments = 0;
};

// Parses text into *out. On a violation returns false and sets *error to
// "line N: <what>" (N 1-based; 0 for the text as a whole).
bool StrictParse(std::string_view text, Exposition* out, std::string* error);

// The same for OpenMetrics 1.0 text
// (https://github.com/OpenObservability/OpenMetrics/blob/main/specification/
// OpenMetrics.md), as far as the serializer uses it: HELP (escaping \\, \n
// and \"), TYPE (counter, gauge, unknown, summary, histogram) and UNIT
// (a suffix of the family name) before a family's samples; a counter's
// samples are named <family>_total (the _created samples OpenMetrics also
// allows are never written, so not accepted); no comments, no sample outside a
// family's metadata; "# EOF" is the last line. Histogram and summary
// semantics (le and quantile labels, bucket order) are not checked: the
// host does not enforce them on plugins either.
bool StrictParseOpenMetrics(std::string_view text, Exposition* out,
                            std::string* error);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsStrictMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__".
bool IsStrictLabelName(std::string_view name);

// Whether text is valid UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool IsStrictUtf8(std::string_view text);

}  // namespace sysmetrics::fuzz
