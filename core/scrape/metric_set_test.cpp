#include "scrape/metric_set.hpp"

#include <doctest/doctest.h>

#include <string>

namespace sysmetrics {
namespace {

TEST_CASE("metric and label names follow the exposition grammar") {
  CHECK(IsValidMetricName("sysmetrics_cpu_seconds_total"));
  CHECK(IsValidMetricName("a:b_c"));
  CHECK(IsValidMetricName("_x"));
  CHECK_FALSE(IsValidMetricName(""));
  CHECK_FALSE(IsValidMetricName("1abc"));
  CHECK_FALSE(IsValidMetricName("a-b"));
  CHECK_FALSE(IsValidMetricName("a b"));
  CHECK(IsValidLabelName("device"));
  CHECK(IsValidLabelName("_x1"));
  CHECK_FALSE(IsValidLabelName("__name__"));
  CHECK_FALSE(IsValidLabelName("a:b"));
  CHECK_FALSE(IsValidLabelName("9"));
  CHECK_FALSE(IsValidLabelName(""));
}

TEST_CASE("UTF-8 validation and repair") {
  CHECK(IsValidUtf8("plain"));
  CHECK(IsValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK_FALSE(IsValidUtf8("\xFF"));
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  std::string out;
  CHECK(AppendRepairedUtf8(out,
                           "a\xFF"
                           "b"));
  CHECK(out ==
        "a\xEF\xBF\xBD"
        "b");
  out.clear();
  CHECK_FALSE(AppendRepairedUtf8(out, "ok"));
  CHECK(out == "ok");
}

// ASCII is skipped eight bytes at a time: a bad byte at every position
// around those words is still found and replaced.
TEST_CASE("UTF-8 repair finds a bad byte anywhere in a long value") {
  std::size_t checked = 0;
  for (std::size_t pos = 0; pos < 20; ++pos) {
    std::string text(20, 'x');
    text[pos] = '\xFF';
    CHECK_FALSE(IsValidUtf8(text));
    std::string out;
    CHECK(AppendRepairedUtf8(out, text));
    std::string want(20, 'x');
    want.replace(pos, 1, "\xEF\xBF\xBD");
    CHECK(out == want);
    ++checked;
  }
  CHECK(checked == 20);
  CHECK(IsValidUtf8(std::string(17, 'a') + "\xC3\xA9"));
}

TEST_CASE("invalid families and samples are refused with a reason") {
  MetricSet set;
  Status s = set.BeginFamily("bad-name", "", MetricType::kGauge);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("bad-name") != std::string::npos);
  CHECK_FALSE(set.AddSample({}, {}, 1).ok());  // no current family

  REQUIRE(set.BeginFamily("ok", "", MetricType::kGauge).ok());
  const LabelView bad[] = {{"__reserved", "x"}};
  CHECK_FALSE(set.AddSample({}, bad, 1).ok());
  const LabelView repeated[] = {{"a", "1"}, {"a", "2"}};
  CHECK_FALSE(set.AddSample({}, repeated, 1).ok());
  CHECK_FALSE(set.AddSample("_sum", {}, 1).ok());  // gauges take no suffix
  CHECK_FALSE(set.BeginFamily("ok", "", MetricType::kGauge).ok());  // twice
  CHECK_FALSE(
      set.BeginFamily("x_bytes", "", MetricType::kGauge, "seconds").ok());
  CHECK(set.BeginFamily("x_seconds_total", "", MetricType::kCounter, "seconds")
            .ok());
}

TEST_CASE("a family name used twice is refused, however many families") {
  // Below and above the size at which family names are indexed, and again
  // after Clear (which must forget the index too).
  MetricSet m;
  for (int round = 0; round < 2; ++round) {
    CAPTURE(round);
    for (int i = 0; i < 200; ++i) {
      REQUIRE(
          m.BeginFamily("f_" + std::to_string(i), "", MetricType::kGauge).ok());
    }
    for (const int i : {0, 5, 31, 32, 33, 150, 199}) {
      CAPTURE(i);
      const Status s =
          m.BeginFamily("f_" + std::to_string(i), "", MetricType::kGauge);
      CHECK(s.message() ==
            "metric family 'f_" + std::to_string(i) + "' emitted twice");
    }
    CHECK(m.families().size() == 200);
    m.Clear();
    CHECK(m.families().empty());
  }
  m.set_sample_limit(10);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(
        m.BeginFamily("g_" + std::to_string(i), "", MetricType::kGauge).ok());
  }
  CHECK(m.BeginFamily("g_10", "", MetricType::kGauge).message() ==
        "family limit of 10 reached");
  CHECK(m.limit_reached());
}

TEST_CASE("label values with invalid UTF-8 are repaired and flagged") {
  MetricSet set;
  REQUIRE(set.BeginFamily("m", "", MetricType::kGauge).ok());
  const LabelView l[] = {{"v", "a\xFE"}};
  REQUIRE(set.AddSample({}, l, 1).ok());
  CHECK(set.repaired());
  CHECK(set.str(set.label(0).value) == "a\xEF\xBF\xBD");
}

TEST_CASE("duplicate series in a family: the later one is refused") {
  MetricSet set;
  REQUIRE(set.BeginFamily("m", "", MetricType::kGauge).ok());
  const LabelView ab[] = {{"a", "1"}, {"b", "2"}};
  const LabelView ba[] = {{"b", "2"}, {"a", "1"}};  // same set, other order
  const LabelView other[] = {{"a", "1"}, {"b", "3"}};
  REQUIRE(set.AddSample({}, ab, 1).ok());
  const Status dup = set.AddSample({}, ba, 2);
  CHECK(dup.message() == "duplicate series in 'm' refused; the first was kept");
  REQUIRE(set.AddSample({}, other, 3).ok());
  CHECK_FALSE(set.AddSample({}, ab, 4).ok());
  set.Finish();
  REQUIRE(set.families()[0].sample_count == 2);
  CHECK(set.sample(0).value == 1);
  CHECK(set.sample(1).value == 3);
  CHECK(set.str(set.label(3).value) == "3");  // the refused labels are gone
}

TEST_CASE("duplicates are found in large families, and only within one") {
  // Past the scan of a few hashes, the table; each family starts afresh.
  MetricSet set;
  for (const char* family : {"m", "n"}) {
    CAPTURE(family);
    REQUIRE(set.BeginFamily(family, "", MetricType::kGauge).ok());
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 1000; ++i) {
        const std::string v = std::to_string(i);
        const LabelView l[] = {{"i", v}};
        CHECK(set.AddSample({}, l, i).ok() == (round == 0));
      }
    }
    CHECK(set.families().back().sample_count == 1000);
  }
  // Two label values that differ only in invalid bytes are the same series
  // once repaired, as served.
  REQUIRE(set.BeginFamily("u", "", MetricType::kGauge).ok());
  const LabelView a[] = {{"v", "x\xff"}};
  const LabelView b[] = {{"v", "x\xfe"}};
  REQUIRE(set.AddSample({}, a, 1).ok());
  CHECK_FALSE(set.AddSample({}, b, 2).ok());
  // The same labels with another suffix are another series.
  REQUIRE(set.BeginFamily("h", "", MetricType::kHistogram).ok());
  REQUIRE(set.AddSample("_sum", {}, 1).ok());
  REQUIRE(set.AddSample("_count", {}, 1).ok());
  CHECK_FALSE(set.AddSample("_count", {}, 2).ok());
}

TEST_CASE("repeats refused at the size where the table starts never hang") {
  // Found by fuzz_serializer: each repeat refused with exactly 8 series
  // in the family rebuilt the table's entries on top of the old ones,
  // until the table was full and the next insert looped for ever.
  MetricSet set;
  REQUIRE(set.BeginFamily("x", "", MetricType::kGauge).ok());
  for (int i = 0; i < 8; ++i) {
    const std::string v = std::to_string(i);
    const LabelView l{"i", v};
    REQUIRE(set.AddSample({}, {&l, 1}, i).ok());
  }
  const LabelView first{"i", "0"};
  for (int round = 0; round < 100; ++round) {
    CHECK_FALSE(set.AddSample({}, {&first, 1}, 1).ok());
  }
  for (int i = 8; i < 40; ++i) {
    const std::string v = std::to_string(i);
    const LabelView l{"i", v};
    CHECK(set.AddSample({}, {&l, 1}, i).ok());
    CHECK_FALSE(set.AddSample({}, {&l, 1}, i).ok());
  }
  CHECK(set.families()[0].sample_count == 40);
}

TEST_CASE("the sample limit stops a runaway plugin") {
  MetricSet set;
  set.set_sample_limit(3);
  REQUIRE(set.BeginFamily("m", "", MetricType::kGauge).ok());
  for (int i = 0; i < 3; ++i) {
    const std::string v = std::to_string(i);
    const LabelView l[] = {{"i", v}};
    REQUIRE(set.AddSample({}, l, i).ok());
  }
  CHECK_FALSE(set.AddSample({}, {}, 9).ok());
  CHECK(set.limit_reached());
}

TEST_CASE("Clear keeps the set reusable") {
  MetricSet set;
  REQUIRE(set.BeginFamily("m", "", MetricType::kGauge).ok());
  REQUIRE(set.AddSample({}, {}, 1).ok());
  set.Clear();
  CHECK(set.families().empty());
  REQUIRE(set.BeginFamily("m", "", MetricType::kGauge).ok());
  REQUIRE(set.AddSample({}, {}, 2).ok());
  set.Finish();
  CHECK(set.families().size() == 1);
  CHECK(set.sample(0).value == 2);
}

}  // namespace
}  // namespace sysmetrics
