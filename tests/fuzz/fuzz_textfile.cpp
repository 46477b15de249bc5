// Fuzz target for ParseTextfile (plugins/textfile/textfile_parser.hpp):
// *.prom files are written by other programs, so anything may be in them.
//
// Beyond "no crash, no sanitizer report": a refusal names its line; what
// the parser accepts, the host accepts too (every family and sample goes
// into a MetricSet the way the plugin hands them over, merged by name as
// the plugin merges files, and none is refused or repaired), and the
// exposition rendered from it passes the strict 0.0.4 parser.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "scrape/metric_set.hpp"
#include "scrape/text_format.hpp"
#include "strict_parse.hpp"
#include "textfile_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace tf = sysmetrics::textfile;
  namespace fz = sysmetrics::fuzz;
  using sysmetrics::LabelView;
  using sysmetrics::MetricSet;
  using sysmetrics::MetricType;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tf::ParsedFile parsed;
  std::string error;
  if (!tf::ParseTextfile(text, &parsed, &error)) {
    FUZZ_CHECK(
        error.starts_with("line ") && error.find(": ") != std::string::npos,
        "error does not name the line: '" + error + "'");
    return 0;
  }
  MetricSet set;
  std::set<std::string> seen;
  for (const tf::Family& f : parsed.families) {
    FUZZ_CHECK(fz::IsStrictMetricName(f.name),
               "accepted invalid family name '" + f.name + "'");
    FUZZ_CHECK(f.type >= SM_METRIC_COUNTER && f.type <= SM_METRIC_SUMMARY,
               "accepted unknown type for '" + f.name + "'");
    // The plugin merges families of one name into the first.
    if (!seen.insert(f.name).second) continue;
    const sysmetrics::Status s =
        set.BeginFamily(f.name, f.help, static_cast<MetricType>(f.type));
    FUZZ_CHECK(s.ok(), "the host refuses family '" + f.name +
                           "' the parser accepted: " + s.message());
    FUZZ_CHECK(!set.repaired(),
               "the host repaired the help of '" + f.name + "'");
    // The series added so far (suffix, then the sorted label pairs): the
    // host refuses a repeat, and only a repeat.
    std::set<std::vector<std::string>> series;
    for (const tf::Family& g : parsed.families) {
      if (g.name != f.name) continue;
      for (const tf::Sample& sample : g.samples) {
        std::vector<LabelView> labels;
        std::vector<std::string> key{sample.suffix};
        for (const auto& [k, v] : sample.labels) {
          labels.push_back({k, v});
          key.push_back(k + '\0' + v);
        }
        std::sort(key.begin() + 1, key.end());
        const bool repeat = !series.insert(key).second;
        const sysmetrics::Status a =
            set.AddSample(sample.suffix, labels, sample.value);
        if (repeat) {
          FUZZ_CHECK(!a.ok(),
                     "the host accepts a repeated series of '" + f.name + "'");
          continue;
        }
        FUZZ_CHECK(a.ok(), "the host refuses a sample of '" + f.name +
                               "' the parser accepted: " + a.message());
        FUZZ_CHECK(!set.repaired(),
                   "the host repaired a label value of '" + f.name + "'");
      }
    }
  }
  set.Finish();
  std::string out;
  sysmetrics::AppendSetText(out, set);
  fz::Exposition exposition;
  FUZZ_CHECK(fz::StrictParse(out, &exposition, &error),
             error + "\n--- exposition:\n" + out + "--- end");
  return 0;
}
