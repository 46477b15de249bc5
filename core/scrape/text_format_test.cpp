#include "scrape/text_format.hpp"

#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "util/number_format.hpp"

namespace sysmetrics {
namespace {

std::string Value(double v) {
  std::string s;
  AppendValue(s, v);
  return s;
}

// A process locale whose decimal separator is a comma, compiled from the
// glibc sources (Debian package locales) into a temporary directory that
// LOCPATH points at: the test needs no locale installed on the machine.
// Restores the "C" locale and LOCPATH when it goes out of scope.
// NOLINTBEGIN(concurrency-mt-unsafe): setenv and setlocale, in a test that
// runs no other thread.
class CommaLocale {
 public:
  CommaLocale() {
    const std::string command =
        "localedef -i de_DE -f UTF-8 '" + dir_.File("de_DE.UTF-8") + "' 2>&1";
    // NOLINTNEXTLINE(cert-env33-c): a fixed command on a path we made.
    status_ = std::system(command.c_str());
    if (status_ != 0) return;
    setenv("LOCPATH", dir_.path().c_str(), 1);
    try {
      std::locale::global(std::locale("de_DE.UTF-8"));  // and setlocale
      active_ = true;
    } catch (const std::runtime_error&) {
      active_ = false;
    }
  }
  ~CommaLocale() {
    std::locale::global(std::locale::classic());
    unsetenv("LOCPATH");
  }
  CommaLocale(const CommaLocale&) = delete;
  CommaLocale& operator=(const CommaLocale&) = delete;

  int localedef_status() const { return status_; }
  bool active() const { return active_; }

 private:
  testing::TempDir dir_;
  int status_ = -1;
  bool active_ = false;
};
// NOLINTEND(concurrency-mt-unsafe)

// What printf makes of v with "%g" (general) or "%.1f".
std::string CPrintf(double v, bool general) {
  char buf[64];
  const int n = general ? std::snprintf(buf, sizeof buf, "%g", v)
                        : std::snprintf(buf, sizeof buf, "%.1f", v);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

// A serializer that formatted with printf or an iostream would write "0,5"
// here, under a locale a user's environment can set: Prometheus would refuse
// the scrape.
TEST_CASE("output does not depend on the process locale") {
  const std::vector<double> values = {0.5,
                                      1e-7,
                                      1234567.89,
                                      -0.0,
                                      12345.67,
                                      -3.25,
                                      1e21,
                                      0.000123,
                                      18446744073709551615.0,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity()};
  const std::vector<std::string> want = {
      "0.5",   "1e-07",    "1234567.89",           "-0",  "12345.67", "-3.25",
      "1e+21", "0.000123", "18446744073709551616", "NaN", "+Inf",     "-Inf"};
  const auto render = [&] {
    std::vector<std::string> out;
    out.reserve(values.size() + 2);
    for (const double v : values) out.push_back(Value(v));
    MetricSet set;
    REQUIRE(set.BeginFamily("x", "Help.", MetricType::kGauge).ok());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string n = std::to_string(i);
      const LabelView label[] = {{"i", n}};
      REQUIRE(set.AddSample({}, label, values[i]).ok());
    }
    set.Finish();
    std::string text;
    AppendSetText(text, set);
    out.push_back(text);
    std::string om;
    AppendSetOpenMetrics(om, set);
    out.push_back(om);
    return out;
  };
  const std::vector<std::string> in_c = render();
  REQUIRE(in_c.size() == want.size() + 2);
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(in_c[i] == want[i]);

  const CommaLocale comma;
  // Fails, never skips, when the locale cannot be made: without it this
  // test would pass whatever the serializer did.
  REQUIRE_MESSAGE(comma.localedef_status() == 0,
                  "localedef -i de_DE -f UTF-8 failed (Debian: install "
                  "the package locales)");
  REQUIRE(comma.active());
  // The locale is in effect, for C and for C++ formatting alike.
  REQUIRE(CPrintf(0.5, false) == "0,5");
  REQUIRE(CPrintf(1234567.89, true) == "1,23457e+06");
  std::ostringstream stream;
  stream << 0.5;
  REQUIRE(stream.str() == "0,5");

  const std::vector<std::string> in_comma = render();
  REQUIRE(in_comma.size() == in_c.size());
  for (std::size_t i = 0; i < in_c.size(); ++i) {
    CAPTURE(i);
    CHECK(in_comma[i] == in_c[i]);
  }
}

TEST_CASE("HELP escapes backslash and newline only") {
  std::string s;
  AppendEscapedHelp(s, "a\\b\nc\"d");
  CHECK(s == "a\\\\b\\nc\"d");
}

// Values are scanned eight bytes at a time: a character to escape at any
// position around those words is still found, next to the others.
TEST_CASE("escapes are found at every position of a long value") {
  const auto reference = [](std::string_view text, bool quote) {
    std::string out;
    for (const char c : text) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '"' && quote) {
        out += "\\\"";
      } else {
        out += c;
      }
    }
    return out;
  };
  std::size_t checked = 0;
  for (std::size_t pos = 0; pos < 20; ++pos) {
    for (const char special : {'\\', '\n', '"'}) {
      std::string text(20, 'x');
      text[pos] = special;
      text[19 - pos] = '\n';
      std::string help;
      AppendEscapedHelp(help, text);
      CHECK(help == reference(text, false));
      std::string value;
      AppendEscapedLabelValue(value, text);
      CHECK(value == reference(text, true));
      ++checked;
    }
  }
  CHECK(checked == 60);
}

TEST_CASE("label values escape backslash, quote and newline") {
  std::string s;
  AppendEscapedLabelValue(s, "a\\b\nc\"d");
  CHECK(s == "a\\\\b\\nc\\\"d");
}

TEST_CASE("a family renders HELP, TYPE and samples") {
  MetricSet set;
  REQUIRE(set.BeginFamily("x_total", "Help with \\ and\nnewline.",
                          MetricType::kCounter)
              .ok());
  const LabelView a[] = {{"dev", "sda"}, {"path", "C:\\x \"q\"\n"}};
  REQUIRE(set.AddSample({}, a, 1.5).ok());
  REQUIRE(set.AddSample({}, {}, 2).ok());
  REQUIRE(set.BeginFamily("g", "", MetricType::kGauge).ok());
  REQUIRE(set.AddSample({}, {}, std::nan("")).ok());
  set.Finish();
  std::string out;
  AppendSetText(out, set);
  CHECK(out ==
        "# HELP x_total Help with \\\\ and\\nnewline.\n"
        "# TYPE x_total counter\n"
        "x_total{dev=\"sda\",path=\"C:\\\\x \\\"q\\\"\\n\"} 1.5\n"
        "x_total 2\n"
        "# HELP g \n"
        "# TYPE g gauge\n"
        "g NaN\n");
}

TEST_CASE("histograms render their suffixed samples") {
  MetricSet set;
  REQUIRE(set.BeginFamily("lat_seconds", "Latency.", MetricType::kHistogram,
                          "seconds")
              .ok());
  const LabelView le1[] = {{"le", "0.1"}};
  const LabelView le2[] = {{"le", "+Inf"}};
  REQUIRE(set.AddSample("_bucket", le1, 3).ok());
  REQUIRE(set.AddSample("_bucket", le2, 5).ok());
  REQUIRE(set.AddSample("_sum", {}, 0.7).ok());
  REQUIRE(set.AddSample("_count", {}, 5).ok());
  CHECK_FALSE(set.AddSample({}, {}, 1).ok());  // no bare sample
  set.Finish();
  std::string out;
  AppendSetText(out, set);
  CHECK(out ==
        "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{le=\"0.1\"} 3\n"
        "lat_seconds_bucket{le=\"+Inf\"} 5\n"
        "lat_seconds_sum 0.7\nlat_seconds_count 5\n");
}

TEST_CASE("a family whose samples were all refused is left out") {
  MetricSet set;
  REQUIRE(set.BeginFamily("empty", "Nothing.", MetricType::kGauge).ok());
  set.Finish();
  std::string out;
  AppendSetText(out, set);
  CHECK(out.empty());
}

TEST_CASE("golden: the serializer's output for a fixed model") {
  MetricSet set;
  REQUIRE(set.BeginFamily("sysmetrics_test_bytes", "Bytes \"quoted\".",
                          MetricType::kGauge, "bytes")
              .ok());
  const LabelView l1[] = {{"device", "nvme0n1p1"}};
  const LabelView l2[] = {{"device", "weird\"\\\nname"}};
  REQUIRE(set.AddSample({}, l1, 1048576).ok());
  REQUIRE(set.AddSample({}, l2, 0.000123).ok());
  REQUIRE(set.BeginFamily("sysmetrics_test_total", "A counter.",
                          MetricType::kCounter)
              .ok());
  REQUIRE(set.AddSample({}, {}, 18446744073709551615.0).ok());
  REQUIRE(set.BeginFamily("sysmetrics_test_untyped", "Untyped \\ help.",
                          MetricType::kUntyped)
              .ok());
  REQUIRE(set.AddSample({}, {}, -std::numeric_limits<double>::infinity()).ok());
  set.Finish();
  std::string out;
  AppendSetText(out, set);
  std::ifstream golden(SYSMETRICS_SOURCE_DIR
                       "/core/scrape/testdata/serializer.golden.prom");
  REQUIRE(golden.good());
  std::stringstream want;
  want << golden.rdbuf();
  CHECK(out == want.str());
}

TEST_CASE("golden: the same model in OpenMetrics") {
  MetricSet set;
  REQUIRE(set.BeginFamily("sysmetrics_test_bytes", "Bytes \"quoted\".",
                          MetricType::kGauge, "bytes")
              .ok());
  const LabelView l1[] = {{"device", "nvme0n1p1"}};
  const LabelView l2[] = {{"device", "weird\"\\\nname"}};
  REQUIRE(set.AddSample({}, l1, 1048576).ok());
  REQUIRE(set.AddSample({}, l2, 0.000123).ok());
  REQUIRE(set.BeginFamily("sysmetrics_test_total", "A counter.",
                          MetricType::kCounter)
              .ok());
  REQUIRE(set.AddSample({}, {}, 18446744073709551615.0).ok());
  REQUIRE(set.BeginFamily("sysmetrics_test_untyped", "Untyped \\ help.",
                          MetricType::kUntyped)
              .ok());
  REQUIRE(set.AddSample({}, {}, -std::numeric_limits<double>::infinity()).ok());
  set.Finish();
  std::string out;
  AppendSetOpenMetrics(out, set);
  out.append(kOpenMetricsEof);
  std::ifstream golden(SYSMETRICS_SOURCE_DIR
                       "/core/scrape/testdata/serializer.golden.om.txt");
  REQUIRE(golden.good());
  std::stringstream want;
  want << golden.rdbuf();
  CHECK(out == want.str());
}

TEST_CASE("OpenMetrics: counters, units and histograms") {
  MetricSet set;
  REQUIRE(set.BeginFamily("cpu_seconds_total", "CPU.", MetricType::kCounter,
                          "seconds")
              .ok());
  const LabelView mode[] = {{"mode", "user"}};
  REQUIRE(set.AddSample({}, mode, 12.5).ok());
  // A counter named without _total gets it on its samples only.
  REQUIRE(set.BeginFamily("requests", "Requests.", MetricType::kCounter).ok());
  REQUIRE(set.AddSample({}, {}, 3).ok());
  REQUIRE(set.BeginFamily("lat_seconds", "Latency.", MetricType::kHistogram,
                          "seconds")
              .ok());
  const LabelView inf[] = {{"le", "+Inf"}};
  REQUIRE(set.AddSample("_bucket", inf, 5).ok());
  REQUIRE(set.AddSample("_sum", {}, 0.7).ok());
  REQUIRE(set.AddSample("_count", {}, 5).ok());
  set.Finish();
  std::string out;
  AppendSetOpenMetrics(out, set);
  CHECK(out ==
        "# HELP cpu_seconds CPU.\n# TYPE cpu_seconds counter\n"
        "# UNIT cpu_seconds seconds\n"
        "cpu_seconds_total{mode=\"user\"} 12.5\n"
        "# HELP requests Requests.\n# TYPE requests counter\n"
        "requests_total 3\n"
        "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
        "# UNIT lat_seconds seconds\n"
        "lat_seconds_bucket{le=\"+Inf\"} 5\n"
        "lat_seconds_sum 0.7\nlat_seconds_count 5\n");
  CHECK(OpenMetricsFamilyName("x_total", MetricType::kCounter) == "x");
  CHECK(OpenMetricsFamilyName("x_total", MetricType::kGauge) == "x_total");
}

TEST_CASE("content negotiation: OpenMetrics only when preferred") {
  using F = ExpositionFormat;
  // Prometheus 2.42's scrape Accept header.
  CHECK(NegotiateFormat(
            "application/openmetrics-text;version=1.0.0,application/"
            "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
            "q=0.5,*/*;q=0.1") == F::kOpenMetrics);
  CHECK(NegotiateFormat("application/openmetrics-text") == F::kOpenMetrics);
  CHECK(NegotiateFormat("Application/OpenMetrics-Text; version=\"1.0.0\"") ==
        F::kOpenMetrics);
  CHECK(NegotiateFormat("application/openmetrics-text;version=0.0.1") ==
        F::kOpenMetrics);
  CHECK(NegotiateFormat("") == F::kText);
  CHECK(NegotiateFormat("*/*") == F::kText);
  CHECK(NegotiateFormat("text/plain") == F::kText);
  // A browser.
  CHECK(NegotiateFormat("text/html,application/xhtml+xml,application/xml;"
                        "q=0.9,*/*;q=0.8") == F::kText);
  // Ties and lower qualities go to the text format.
  CHECK(NegotiateFormat(
            "application/openmetrics-text;q=0.5,text/plain;q=0.5") == F::kText);
  CHECK(NegotiateFormat("text/plain;q=0.9,application/openmetrics-text;q=1") ==
        F::kOpenMetrics);
  CHECK(NegotiateFormat("application/openmetrics-text;q=0") == F::kText);
  // Versions we do not write, and garbage.
  CHECK(NegotiateFormat("application/openmetrics-text;version=2.0.0") ==
        F::kText);
  CHECK(NegotiateFormat("application/openmetrics-text;q=abc") == F::kText);
  CHECK(NegotiateFormat(";;,,=;q=") == F::kText);
}

}  // namespace
}  // namespace sysmetrics
