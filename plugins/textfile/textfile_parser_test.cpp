#include "textfile_parser.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace sysmetrics::textfile {
namespace {

ParsedFile Parse(std::string_view text) {
  ParsedFile f;
  std::string error;
  INFO(text);
  REQUIRE_MESSAGE(ParseTextfile(text, &f, &error), error);
  return f;
}

std::string Error(std::string_view text) {
  ParsedFile f;
  std::string error;
  INFO(text);
  REQUIRE_FALSE(ParseTextfile(text, &f, &error));
  return error;
}

TEST_CASE("what cron jobs write: typed families, labels, comments") {
  const ParsedFile f = Parse(
      "# A comment\n"
      "\n"
      "# HELP backup_last_success_seconds When the last backup \\\\ ended.\n"
      "# TYPE backup_last_success_seconds gauge\n"
      "backup_last_success_seconds{job=\"db\",host=\"a\\\"b\\\\c\\nd\"} "
      "1.7e9\n"
      "  backup_last_success_seconds{job=\"files\",} 1700000000\n"
      "# TYPE backup_runs_total counter\n"
      "backup_runs_total\t42\n"
      "untyped_thing -Inf\n");
  REQUIRE(f.families.size() == 3);
  const Family& g = f.families[0];
  CHECK(g.name == "backup_last_success_seconds");
  CHECK(g.help == "When the last backup \\ ended.");
  CHECK(g.type == SM_METRIC_GAUGE);
  REQUIRE(g.samples.size() == 2);
  CHECK(g.samples[0].labels[1].second == "a\"b\\c\nd");
  CHECK(g.samples[0].value == 1.7e9);
  CHECK(g.samples[1].labels.size() == 1);
  CHECK(f.families[1].type == SM_METRIC_COUNTER);
  CHECK(f.families[1].samples[0].value == 42);
  CHECK(f.families[2].type == SM_METRIC_UNTYPED);
  CHECK(std::isinf(f.families[2].samples[0].value));
  CHECK(f.families[2].line == 9);
}

TEST_CASE("histograms and summaries take their suffixed samples") {
  const ParsedFile f = Parse(
      "# TYPE rpc_seconds histogram\n"
      "rpc_seconds_bucket{le=\"0.5\"} 3\n"
      "rpc_seconds_bucket{le=\"+Inf\"} 5\n"
      "rpc_seconds_sum 1.5\n"
      "rpc_seconds_count 5\n"
      "# TYPE q summary\n"
      "q{quantile=\"0.99\"} NaN\n"
      "q_sum 1\nq_count 2\n"
      "other_sum 3\n");
  REQUIRE(f.families.size() == 3);
  CHECK(f.families[0].samples.size() == 4);
  CHECK(f.families[0].samples[0].suffix == "_bucket");
  CHECK(f.families[0].samples[3].suffix == "_count");
  CHECK(f.families[1].samples.size() == 3);
  CHECK(f.families[1].samples[0].suffix.empty());
  CHECK(std::isnan(f.families[1].samples[0].value));
  CHECK(f.families[2].name == "other_sum");  // no summary "other": untyped
}

TEST_CASE("values: Go's float syntax, infinities and NaN in any case") {
  const ParsedFile f =
      Parse("a 1\nb -0.5\nc 1E3\nd +inf\ne Infinity\nf nan\ng .5\nh 5.\n");
  CHECK(f.families.size() == 8);
  CHECK(f.families[2].samples[0].value == 1000);
  CHECK(f.families[6].samples[0].value == 0.5);
}

TEST_CASE("a family named only by HELP or TYPE is left out") {
  CHECK(Parse("# HELP x Nothing.\n# TYPE y gauge\n").families.empty());
  CHECK(Parse("").families.empty());
}

TEST_CASE("every violation names its line") {
  CHECK(Error("ok 1\n1bad 2\n") == "line 2: invalid metric name '1bad'");
  CHECK(Error("x{__name=\"a\"} 1\n") == "line 1: invalid label name '__name'");
  CHECK(Error("x{a=\"1\",a=\"2\"} 1\n") == "line 1: label 'a' repeated");
  CHECK(Error("x{a=\"\\t\"} 1\n") ==
        "line 1: invalid escape sequence '\\t' in label 'a'");
  CHECK(Error("x{a=\"open} 1\n") == "line 1: unterminated value of label 'a'");
  CHECK(Error("x{a=1} 1\n") ==
        "line 1: expected '\"' to start the value of label 'a'");
  CHECK(Error("x{a=\"1\" b=\"2\"} 1\n") ==
        "line 1: expected ',' or '}' after the value of label 'a'");
  CHECK(Error("x\n") == "line 1: expected a value after 'x'");
  CHECK(Error("x one\n") == "line 1: invalid value 'one' for 'x'");
  CHECK(Error("x 0x10\n") == "line 1: invalid value '0x10' for 'x'");
  CHECK(Error("x 1e999\n") == "line 1: invalid value '1e999' for 'x'");
  CHECK(Error("x 1 1700000000000\n") ==
        "line 1: samples with timestamps are not supported: Prometheus would "
        "record the file writer's time, not the scrape's");
  CHECK(Error("x 1 soon\n") == "line 1: invalid timestamp 'soon'");
  CHECK(Error("# TYPE x gauge\n# TYPE x counter\n") ==
        "line 2: second TYPE line for metric name 'x'");
  CHECK(Error("# HELP x a\n# HELP x b\n") ==
        "line 2: second HELP line for metric name 'x'");
  CHECK(Error("x 1\n# TYPE x gauge\n") ==
        "line 2: TYPE line for 'x' after its samples");
  CHECK(Error("# TYPE x meter\n") == "line 1: unknown metric type 'meter'");
  CHECK(Error("# TYPE 9x gauge\n") ==
        "line 1: invalid metric name '9x' in TYPE line");
  CHECK(Error("# TYPE h histogram\nh_bucket 1\n") ==
        "line 2: 'h_bucket' lacks its 'le' label");
  CHECK(Error("# TYPE h histogram\nh_bucket{le=\"big\"} 1\n") ==
        "line 2: 'le' label value 'big' is not a number");
  CHECK(Error("# TYPE h histogram\nh 1\n") ==
        "line 2: 'h' is a histogram: its samples are named with _bucket, "
        "_sum or _count");
  CHECK(Error("# TYPE s summary\ns 1\n") ==
        "line 2: 's' lacks its 'quantile' label");
  CHECK(Error("x{a=\"\xff\"} 1\n") ==
        "line 1: value of label 'a' is not valid UTF-8");
  CHECK(Error("# HELP x \xc0\x80\n") == "line 1: HELP text is not valid UTF-8");
  CHECK(Error(std::string_view("x 1\0\n", 5)) == "line 1: NUL byte");
}

TEST_CASE("two families that would expose one name are refused") {
  // The untyped "x_sum" first, then a summary "x" whose _sum it would be
  // (what the fuzzer found: the exposition held x_sum in two families).
  CHECK(Error("x_sum 1\n# TYPE x summary\nx{quantile=\"0.5\"} 2\n") ==
        "line 2: summary 'x' clashes with untyped 'x_sum' (line 1): both "
        "would expose the name 'x_sum'");
  // The summary first, then "x_sum" declared a family of its own.
  CHECK(Error("# TYPE x summary\nx_sum 1\n# TYPE x_sum gauge\nx_sum 2\n") ==
        "line 3: gauge 'x_sum' clashes with summary 'x' (line 1): both "
        "would expose the name 'x_sum'");
  CHECK(Error("# TYPE h histogram\nh_count 1\n# HELP h_bucket B.\n"
              "h_bucket 3\n") ==
        "line 3: untyped 'h_bucket' clashes with histogram 'h' (line 1): "
        "both would expose the name 'h_bucket'");
  // A counter's OpenMetrics names: "c" and "c_total" are one family there.
  CHECK(Error("# TYPE c counter\nc 1\nc_total 2\n") ==
        "line 3: untyped 'c_total' clashes with counter 'c' (line 1): both "
        "would expose the name 'c_total'");
  CHECK(Error("# TYPE r_total counter\nr_total 1\nr 2\n") ==
        "line 3: untyped 'r' clashes with counter 'r_total' (line 1): both "
        "would expose the name 'r'");
  // A family named only by HELP or TYPE exposes nothing and clashes with
  // nothing; a suffix that is not the type's is no clash either.
  CHECK(Parse("# TYPE x summary\n# TYPE x_sum gauge\nx_sum 1\n")
            .families.size() == 1);
  CHECK(Parse("# TYPE x summary\nx_sum 1\nx_bucket 2\n").families.size() == 2);
  CHECK(Parse("# TYPE g gauge\ng 1\ng_total 2\n").families.size() == 2);
}

TEST_CASE("ExposedNames: the names a family occupies in either format") {
  const auto names = [](std::string name, sm_metric_type type) {
    Family f;
    f.name = std::move(name);
    f.type = type;
    return ExposedNames(f);
  };
  using V = std::vector<std::string>;
  CHECK(names("h", SM_METRIC_HISTOGRAM) ==
        V{"h", "h_bucket", "h_sum", "h_count"});
  CHECK(names("s", SM_METRIC_SUMMARY) == V{"s", "s_sum", "s_count"});
  CHECK(names("c", SM_METRIC_COUNTER) == V{"c", "c_total"});
  CHECK(names("c_total", SM_METRIC_COUNTER) == V{"c_total", "c"});
  CHECK(names("g_total", SM_METRIC_GAUGE) == V{"g_total"});
  CHECK(names("u", SM_METRIC_UNTYPED) == V{"u"});
}

TEST_CASE("CRLF line ends and a missing final newline are accepted") {
  const ParsedFile f = Parse("# TYPE x gauge\r\nx 1\r\ny 2");
  REQUIRE(f.families.size() == 2);
  CHECK(f.families[0].type == SM_METRIC_GAUGE);
  CHECK(f.families[1].samples[0].value == 2);
}

}  // namespace
}  // namespace sysmetrics::textfile
