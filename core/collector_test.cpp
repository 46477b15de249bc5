// The host services plugins call (sm_host_api), driven directly, and the
// loader's messages for files dlopen refuses.
#include "collector.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "log.hpp"
#include "plugin_loader.hpp"
#include "text_format.hpp"

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
  sm_family good = Family("sysmetrics_good");
  sm_sample one = Sample(1);
  REQUIRE(api.begin_family(&e.em, &good) == SM_OK);
  REQUIRE(api.emit_sample(&e.em, &one) == SM_OK);
  sm_family short_struct = Family("sysmetrics_short");
  short_struct.struct_size = 4;  // malformed: refused before the model sees it
  CHECK(api.begin_family(&e.em, &short_struct) == SM_ERR_INVALID);
  sm_sample two = Sample(2);
  CHECK(api.emit_sample(&e.em, &two) == SM_ERR_INVALID);
  CHECK(api.begin_family(&e.em, nullptr) == SM_ERR_INVALID);
  CHECK(api.emit_sample(&e.em, &two) == SM_ERR_INVALID);
  CHECK(e.Text() ==
        "# HELP sysmetrics_good Help.\n# TYPE sysmetrics_good gauge\n"
        "sysmetrics_good 1\n");
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
