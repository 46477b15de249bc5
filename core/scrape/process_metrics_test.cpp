#include "scrape/process_metrics.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>

#include "scrape/name_ownership.hpp"

namespace sysmetrics {
namespace {

TEST_CASE("ParseProcessStat counts fields from the command name's last ')'") {
  // A command name with a space and parentheses, as prctl allows.
  const std::string stat =
      "4242 (my (odd) exp) S 1 4242 4242 0 -1 4194624 120 0 0 0 "
      "150 50 0 0 20 0 6 0 987654 123456789 2500 18446744073709551615 "
      "1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  const Result<ProcessStat> parsed = ParseProcessStat(stat, 100, 4096);
  REQUIRE(parsed.ok());
  const ProcessStat& st = parsed.value();
  CHECK(st.cpu_seconds == doctest::Approx(2.0));  // (150 + 50) / 100
  CHECK(st.start_ticks == 987654);
  CHECK(st.virtual_bytes == 123456789);
  CHECK(st.resident_bytes == 2500.0 * 4096);
}

TEST_CASE("ParseProcessStat refuses what it cannot read") {
  CHECK(ParseProcessStat("", 100, 4096).error() ==
        "no ')' after the command name");
  CHECK(ParseProcessStat("1 (x) S 1 2 3", 100, 4096).error() ==
        "fewer than 24 fields");
  CHECK(
      ParseProcessStat(
          "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 50 0 0 20 0 1 0 5 6 7\n", 100, 4096)
          .error() == "field 14: \"abc\" is not a number");
}

// The families Append served, name to value.
std::map<std::string, double> Served(const ProcessMetrics& p) {
  MetricSet set;
  p.Append(&set);
  set.Finish();
  std::map<std::string, double> out;
  for (const MetricSet::Family& f : set.families()) {
    REQUIRE(f.sample_count == 1);
    out[std::string(set.str(f.name))] = set.sample(f.first_sample).value;
  }
  return out;
}

TEST_CASE("this process' own metrics, each a host family") {
  const ProcessMetrics p;
  const std::map<std::string, double> got = Served(p);
  CHECK(got.size() == 6);
  for (const auto& entry : got) {
    const std::string& name = entry.first;
    CAPTURE(name);
    CHECK(std::find(std::begin(kHostFamilies), std::end(kHostFamilies), name) !=
          std::end(kHostFamilies));
  }
  std::ifstream in("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  const Result<ProcessStat> parsed =
      ParseProcessStat(stat, static_cast<double>(sysconf(_SC_CLK_TCK)),
                       static_cast<double>(sysconf(_SC_PAGESIZE)));
  REQUIRE(parsed.ok());
  const ProcessStat& st = parsed.value();
  CHECK(got.at("process_cpu_seconds_total") <= st.cpu_seconds);
  CHECK(got.at("process_virtual_memory_bytes") > 0);
  CHECK(got.at("process_resident_memory_bytes") > 0);
  CHECK(got.at("process_open_fds") >= 3);
  CHECK(got.at("process_max_fds") >= got.at("process_open_fds"));
  // Started within the last day, and not in the future.
  const double now = static_cast<double>(::time(nullptr));
  CHECK(got.at("process_start_time_seconds") <= now + 1);
  CHECK(got.at("process_start_time_seconds") > now - 86400);
}

TEST_CASE("open descriptors: the size of /proc/self/fd and its listing agree") {
  const double listed = CountOpenFds(false);
  CHECK(listed >= 3);
  // Kernels before 6.2 give no size; the listing is used then as well.
  CHECK(CountOpenFds(true) == listed);
}

}  // namespace
}  // namespace sysmetrics
