// The real host against purpose-built plugins (tests/plugins): each fault is
// refused at load or isolated at scrape, with the log line saying why.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "app.hpp"
#include "collector.hpp"
#include "config.hpp"
#include "exporter.hpp"
#include "log.hpp"
#include "plugin_loader.hpp"

namespace sysmetrics {
namespace {

const std::string kDir = SYSMETRICS_TEST_PLUGIN_DIR;

std::string Path(const std::string& name) { return kDir + "/" + name + ".so"; }

// Captures log lines for one test.
class LogCapture {
 public:
  LogCapture() {
    InitLoggingToStream(out_, LogFormat::kText, LogLevel::kDebug);
  }
  ~LogCapture() { InitLogging(LogFormat::kText, LogLevel::kOff); }
  std::string text() const { return out_.str(); }
  bool Has(const std::string& s) const {
    return text().find(s) != std::string::npos;
  }

 private:
  std::ostringstream out_;
};

std::unique_ptr<Collector> MakeCollector(
    const std::string& name, const CollectorSettings& settings = {}) {
  auto plugin = LoadPlugin(Path(name));
  if (!plugin.ok()) throw std::runtime_error(plugin.error());
  auto c = Collector::Create(
      plugin.value(), PluginOptions::Defaults(plugin.value()->info().schema),
      settings);
  if (!c.ok()) throw std::runtime_error(c.error());
  return c.take();
}

std::string Scrape(Exporter& e, ScrapeReport* report,
                   std::chrono::milliseconds budget = std::chrono::seconds(2)) {
  std::string out;
  ScrapeOptions options;
  options.deadline = Clock::now() + budget;
  e.Scrape(options, &out, report);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("a plugin built for another ABI major is refused naming both") {
  auto r = LoadPlugin(Path("wrong_abi"));
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.error(), "built for plugin ABI 2.0"));
  CHECK(Contains(r.error(), "this host speaks ABI " +
                                std::to_string(SM_ABI_VERSION_MAJOR) + "." +
                                std::to_string(SM_ABI_VERSION_MINOR)));
}

TEST_CASE("a shared object without the entry symbol is refused by name") {
  auto r = LoadPlugin(Path("no_entry"));
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.error(), "no entry symbol 'sysmetrics_plugin_entry'"));
}

TEST_CASE("a descriptor name other than the file name is refused") {
  auto r = LoadPlugin(Path("name_mismatch"));
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.error(), "'other'"));
  CHECK(Contains(r.error(), "'name_mismatch.so'"));
}

TEST_CASE("missing files and files that are not ELF are refused") {
  auto missing = LoadPlugin(kDir + "/does_not_exist.so");
  REQUIRE_FALSE(missing.ok());
  CHECK(Contains(missing.error(), "cannot load"));
  const std::string junk = kDir + "/../junk-plugin.so";
  std::ofstream(junk) << "not an ELF file";
  auto bad = LoadPlugin(junk);
  std::filesystem::remove(junk);
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.error(), "cannot load"));
}

TEST_CASE("create failing refuses the plugin with its own reason") {
  auto plugin = LoadPlugin(Path("create_fails"));
  REQUIRE(plugin.ok());
  sm_status st = SM_OK;
  auto c =
      Collector::Create(plugin.value(), PluginOptions::Defaults({}), {}, &st);
  REQUIRE_FALSE(c.ok());
  CHECK(st == SM_ERR);
  CHECK(Contains(c.error(), "create_fails: intentional failure"));
}

TEST_CASE("a failing collect costs only its own families, every scrape") {
  LogCapture log;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("c_plugin"));
  cs.push_back(MakeCollector("collect_fails"));
  cs.push_back(MakeCollector("throws"));
  Exporter e(std::move(cs));
  for (int i = 1; i <= 3; ++i) {
    ScrapeReport report;
    const std::string out = Scrape(e, &report);
    CHECK(report.collectors[0].success);
    CHECK_FALSE(report.collectors[1].success);
    CHECK(report.collectors[1].error ==
          "/fake/file:7: intentional parse failure");
    CHECK_FALSE(report.collectors[2].success);
    CHECK(report.collectors[2].error == "boom from C++");
    CHECK(Contains(out, "sysmetrics_c_plugin_answer{greeting=\"hello\"} 42"));
    CHECK(Contains(out,
                   "sysmetrics_collector_success{collector=\"c_plugin\"} 1"));
    CHECK(Contains(
        out, "sysmetrics_collector_success{collector=\"collect_fails\"} 0"));
    CHECK(
        Contains(out, "sysmetrics_collector_success{collector=\"throws\"} 0"));
    CHECK_FALSE(Contains(out, "sysmetrics_collect_fails_partial"));
    CHECK_FALSE(Contains(out, "sysmetrics_throws_partial"));
    CHECK(Contains(out,
                   "sysmetrics_collector_errors_total{collector=\"collect_"
                   "fails\"} " +
                       std::to_string(i)));
    CHECK(Contains(out,
                   "sysmetrics_collector_errors_total{collector=\"throws\"} " +
                       std::to_string(i)));
  }
  CHECK(
      log.Has("collector failed collector=collect_fails "
              "error=\"/fake/file:7: intentional parse failure\""));
  CHECK(log.Has("collector failed collector=throws error=\"boom from C++\""));
}

TEST_CASE("options reach a C plugin: defaults and configured values") {
  auto plugin = LoadPlugin(Path("c_plugin"));
  REQUIRE(plugin.ok());
  const PluginInfo& info = plugin.value()->info();
  CHECK(info.version == "1.2.3");
  REQUIRE(info.schema.size() == 5);
  PluginOptions options = PluginOptions::Defaults(info.schema);
  options.FindMutable("answer")->i = 7;
  options.FindMutable("greeting")->s = "hi \"there\"";
  options.FindMutable("loud")->b = true;
  options.FindMutable("items")->list = {"x", "y", "z"};
  auto c = Collector::Create(plugin.value(), options, {});
  REQUIRE(c.ok());
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(c.take());
  Exporter e(std::move(cs));
  ScrapeReport report;
  const std::string out = Scrape(e, &report);
  CHECK(Contains(
      out, "sysmetrics_c_plugin_answer{greeting=\"hi \\\"there\\\"\"} 7"));
  CHECK(Contains(out, "sysmetrics_c_plugin_ratio 5\n"));  // 0.5 * 10, loud
  CHECK(Contains(out, "sysmetrics_c_plugin_items{item=\"z\"} 2"));
  CHECK(Contains(out, "sysmetrics_c_plugin_collections_total 1"));
  CHECK(
      Contains(Scrape(e, &report), "sysmetrics_c_plugin_collections_total 2"));
}

TEST_CASE("invalid names, bad UTF-8 and duplicates are refused or repaired") {
  LogCapture log;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("bad_names"));
  Exporter e(std::move(cs));
  ScrapeReport report;
  const std::string out = Scrape(e, &report);
  CHECK(report.collectors[0].success);
  CHECK_FALSE(Contains(out, "bad-name"));
  CHECK_FALSE(Contains(out, "__x"));
  CHECK(Contains(out, "sysmetrics_bad_names_ok{value=\"ab\xEF\xBF\xBD\"} 2"));
  CHECK(Contains(out, "sysmetrics_bad_names_ok{k=\"same\"} 3"));
  CHECK_FALSE(Contains(out, "sysmetrics_bad_names_ok{k=\"same\"} 4"));
  CHECK(Contains(out,
                 "# HELP sysmetrics_bad_names_ok Help with a\\nnewline "
                 "and a \\\\ backslash."));
  CHECK(
      log.Has("plugin output refused collector=bad_names "
              "reason=\"invalid metric name 'bad-name'\""));
}

TEST_CASE("the sample limit bounds a runaway plugin and fails it") {
  CollectorSettings settings;
  settings.sample_limit = 1000;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("flood", settings));
  cs.push_back(MakeCollector("c_plugin"));
  Exporter e(std::move(cs));
  ScrapeReport report;
  const std::string out = Scrape(e, &report, std::chrono::seconds(10));
  CHECK_FALSE(report.collectors[0].success);
  CHECK(Contains(report.collectors[0].error, "sample limit of 1000"));
  CHECK_FALSE(Contains(out, "sysmetrics_flood{"));
  CHECK(report.collectors[1].success);
}

TEST_CASE("a slow collector misses its deadline and is not started twice") {
  CollectorSettings settings;
  settings.timeout = std::chrono::milliseconds(200);
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("slow", settings));  // sleeps 3 s by default
  cs.push_back(MakeCollector("c_plugin"));
  Exporter e(std::move(cs));
  ScrapeReport report;
  auto t0 = Clock::now();
  std::string out = Scrape(e, &report, std::chrono::seconds(2));
  const auto took = Clock::now() - t0;
  CHECK(took < std::chrono::milliseconds(1000));
  CHECK_FALSE(report.collectors[0].success);
  CHECK(Contains(report.collectors[0].error, "did not finish before"));
  CHECK(report.collectors[1].success);
  // Still running: the next scrape reports it failed at once.
  t0 = Clock::now();
  out = Scrape(e, &report, std::chrono::seconds(2));
  CHECK(Clock::now() - t0 < std::chrono::milliseconds(100));
  CHECK(Contains(report.collectors[0].error, "still running"));
  CHECK_FALSE(Contains(out, "sysmetrics_slow_calls"));
}

TEST_CASE("the 1.1 flags member is read, and absent from 1.0 descriptors") {
  auto cpu = LoadPlugin(SYSMETRICS_PLUGIN_BUILD_DIR "/cpu.so");
  REQUIRE(cpu.ok());
  CHECK(cpu.value()->info().nonblocking);  // built-ins promise it
  auto c = LoadPlugin(Path("c_plugin"));
  REQUIRE(c.ok());
  CHECK_FALSE(c.value()->info().nonblocking);  // flags 0
  auto frozen = LoadPlugin(Path("frozen_v1_0"));
  REQUIRE(frozen.ok());
  CHECK_FALSE(frozen.value()->info().nonblocking);  // no flags member at all
}

TEST_CASE("a plugin built against the frozen ABI 1.0 header keeps working") {
  auto plugin = LoadPlugin(Path("frozen_v1_0"));
  REQUIRE_MESSAGE(plugin.ok(), (plugin.ok() ? "" : plugin.error()));
  CHECK(plugin.value()->info().abi_major == 1);
  CHECK(plugin.value()->info().abi_minor == 0);
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("frozen_v1_0"));
  Exporter e(std::move(cs));
  ScrapeReport report;
  const std::string out = Scrape(e, &report);
  CHECK(report.collectors[0].success);
  // flag 1 + count 3 + ratio 1.5 + one list item + 1 for the strings
  CHECK(Contains(out, "sysmetrics_frozen_v1_0_sum 7.5\n"));
}

TEST_CASE(
    "BuildExporter refuses bad plugins by file and reason, keeps the rest") {
  LogCapture log;
  Config config;
  config.plugin_dir = kDir;
  for (const char* name :
       {"wrong_abi", "no_entry", "create_fails", "c_plugin", "name_mismatch"}) {
    config.collectors[name].enabled = true;
  }
  auto e = BuildExporter(config, /*strict=*/false);
  REQUIRE(e.ok());
  REQUIRE(e.value()->collectors().size() == 1);
  CHECK(e.value()->collectors()[0]->name() == "c_plugin");
  for (const char* name :
       {"wrong_abi", "no_entry", "create_fails", "name_mismatch"}) {
    CHECK_MESSAGE(log.Has("plugin refused file=" + Path(name) + " reason="),
                  name);
  }
  CHECK(log.Has("plugin loaded collector=c_plugin"));
  // --check-config is strict: the first refusal fails it.
  auto strict = BuildExporter(config, /*strict=*/true);
  REQUIRE_FALSE(strict.ok());
  CHECK(Contains(strict.error(), "create_fails.so: create failed"));
}

TEST_CASE("configuration errors about plugins name file and line") {
  const std::string file = kDir + "/../loader-test.toml";
  std::ofstream(file) << "[collectors.c_plugin]\nenabled = true\nanswr = 1\n";
  CommandLine cl;
  cl.config = file;
  auto config = LoadConfig(cl);
  REQUIRE(config.ok());
  config.value().plugin_dir = kDir;
  auto e = BuildExporter(config.value(), false);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error() == file +
                         ":3: unknown key 'answr' in [collectors.c_plugin]; "
                         "valid keys: enabled, timeout_seconds, sample_limit, "
                         "answer, greeting, loud, ratio, items");
  std::ofstream(file) << "[collectors.nosuch]\nenabled = true\n";
  config = LoadConfig(cl);
  REQUIRE(config.ok());
  config.value().plugin_dir = kDir;
  e = BuildExporter(config.value(), false);
  REQUIRE_FALSE(e.ok());
  CHECK(Contains(e.error(), file +
                                ":1: unknown collector 'nosuch': no "
                                "nosuch.so in " +
                                kDir));
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace sysmetrics
