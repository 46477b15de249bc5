// The host services plugins call (sm_host_api), driven directly, and the
// loader's messages for files dlopen refuses.
#include "scrape/collector.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "plugin/plugin_loader.hpp"
#include "scrape/text_format.hpp"
#include "util/log.hpp"

namespace sysmetrics {
namespace {

sm_family Family(const char* name) {
  sm_family f{};
  f.struct_size = sizeof f;
  f.name = name;
  f.help = "Help.";
  f.type = SM_METRIC_GAUGE;
  return f;
}

sm_sample Sample(double v, const sm_label* labels = nullptr,
                 std::uint32_t n = 0) {
  sm_sample s{};
  s.struct_size = sizeof s;
  s.labels = labels;
  s.n_labels = n;
  s.value = v;
  return s;
}

struct Emitter {
  Emitter() {
    host.plugin_name = "test";
    em.host = &host;
    em.set = &set;
  }
  std::string Text() {
    set.Finish();
    std::string out;
    AppendSetText(out, set);
    return out;
  }
  sm_host host;
  MetricSet set;
  sm_emitter em;
};

TEST_CASE("samples after a malformed family never land in the previous one") {
  std::ostringstream log;
  InitLoggingToStream(log, LogFormat::kText, LogLevel::kDebug);
  const sm_host_api& api = HostApi();
  Emitter e;
  sm_family good = Family("sysmetrics_test_good");
  sm_sample one = Sample(1);
  REQUIRE(api.begin_family(&e.em, &good) == SM_OK);
  REQUIRE(api.emit_sample(&e.em, &one) == SM_OK);
  sm_family short_struct = Family("sysmetrics_test_short");
  short_struct.struct_size = 4;  // malformed: refused before the model sees it
  CHECK(api.begin_family(&e.em, &short_struct) == SM_ERR_INVALID);
  sm_sample two = Sample(2);
  CHECK(api.emit_sample(&e.em, &two) == SM_ERR_INVALID);
  CHECK(api.begin_family(&e.em, nullptr) == SM_ERR_INVALID);
  CHECK(api.emit_sample(&e.em, &two) == SM_ERR_INVALID);
  CHECK(e.Text() ==
        "# HELP sysmetrics_test_good Help.\n"
        "# TYPE sysmetrics_test_good gauge\nsysmetrics_test_good 1\n");
  InitLogging(LogFormat::kText, LogLevel::kOff);
}

TEST_CASE("a duplicate series is refused as it is emitted") {
  std::ostringstream log;
  InitLoggingToStream(log, LogFormat::kText, LogLevel::kDebug);
  const sm_host_api& api = HostApi();
  Emitter e;
  sm_family f = Family("sysmetrics_test_dups");
  const sm_label l[] = {{"k", "v"}};
  sm_sample s = Sample(1, l, 1);
  REQUIRE(api.begin_family(&e.em, &f) == SM_OK);
  REQUIRE(api.emit_sample(&e.em, &s) == SM_OK);
  s.value = 2;
  CHECK(api.emit_sample(&e.em, &s) == SM_ERR_INVALID);
  InitLogging(LogFormat::kText, LogLevel::kOff);
  CHECK(log.str().find("reason=\"duplicate series in 'sysmetrics_test_dups' "
                       "refused; the first was kept\"") != std::string::npos);
  CHECK(e.Text() ==
        "# HELP sysmetrics_test_dups Help.\n"
        "# TYPE sysmetrics_test_dups gauge\nsysmetrics_test_dups{k=\"v\"} 1\n");
}

TEST_CASE("a third-party plugin is refused names it does not own") {
  std::ostringstream log;
  InitLoggingToStream(log, LogFormat::kText, LogLevel::kDebug);
  const sm_host_api& api = HostApi();
  Emitter e;
  e.host.longer_names = {"test_more"};
  e.host.reserved = std::make_shared<ReservedNameBoard>();
  const std::vector<std::string> served = {"sysmetrics_test_served"};
  e.host.reserved->Add(served);
  sm_sample one = Sample(1);
  for (const char* name :
       {"sysmetrics_other", "sysmetrics_test_more_x", "sysmetrics_test_served",
        "sysmetrics_collector_success", "sysmetrics_other"}) {
    CAPTURE(name);
    sm_family f = Family(name);
    CHECK(api.begin_family(&e.em, &f) == SM_ERR_INVALID);
    CHECK(api.emit_sample(&e.em, &one) == SM_ERR_INVALID);  // ignored
  }
  sm_family own = Family("sysmetrics_test_x");
  CHECK(api.begin_family(&e.em, &own) == SM_OK);
  CHECK(api.emit_sample(&e.em, &one) == SM_OK);
  CHECK(e.em.refused_families == 5);
  InitLogging(LogFormat::kText, LogLevel::kOff);
  CHECK(e.Text() ==
        "# HELP sysmetrics_test_x Help.\n# TYPE sysmetrics_test_x gauge\n"
        "sysmetrics_test_x 1\n");
  const std::string text = log.str();
  CHECK(text.find("warning metric family refused: the collector does not own "
                  "its name collector=test family=sysmetrics_other reason=\"'"
                  "sysmetrics_other' is outside the collector's namespace") !=
        std::string::npos);
  CHECK(text.find("belongs to the enabled collector 'test_more'") !=
        std::string::npos);
  CHECK(text.find("family=sysmetrics_test_served reason=\"'sysmetrics_test_"
                  "served' is served by a plugin shipped with sysmetrics") !=
        std::string::npos);
  CHECK(text.find("is a name of the exporter's own metrics") !=
        std::string::npos);
  // Once at warn per family; the second refusal of one at debug, and no
  // line for the samples.
  CHECK(text.find("debug metric family refused: the collector does not own "
                  "its name collector=test family=sysmetrics_other") !=
        std::string::npos);
  CHECK(text.find("sample without") == std::string::npos);
}

TEST_CASE("a shipped plugin owns what it emits") {
  const sm_host_api& api = HostApi();
  Emitter e;
  e.host.shipped = true;
  sm_family f = Family("node_anything");
  sm_sample one = Sample(1);
  CHECK(api.begin_family(&e.em, &f) == SM_OK);
  CHECK(api.emit_sample(&e.em, &one) == SM_OK);
  CHECK(e.em.refused_families == 0);
}

TEST_CASE("dlopen's own reason reaches the refusal message") {
  auto missing = LoadPlugin("/nonexistent/dir/x.so");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("No such file or directory") != std::string::npos);
  const auto junk =
      std::filesystem::temp_directory_path() / "sysmetrics-junk-plugin.so";
  std::ofstream(junk) << "this is not an ELF file, just text\n";
  auto bad = LoadPlugin(junk);
  std::filesystem::remove(junk);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("cannot load: ") == 0);
  CHECK(bad.error().find("Bad file descriptor") == std::string::npos);
}

}  // namespace
}  // namespace sysmetrics
