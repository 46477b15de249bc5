// The real host against purpose-built plugins (tests/plugins): each fault is
// refused at load or isolated at scrape, with the log line saying why, and a
// plugin written in plain C against plugin.h alone works.
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "app/app.hpp"
#include "config/config.hpp"
#include "plugin/plugin_loader.hpp"
#include "plugin/quarantine.hpp"
#include "scrape/collector.hpp"
#include "scrape/exporter.hpp"
#include "scrape/metric_set.hpp"
#include "test_support.hpp"
#include "util/log.hpp"

namespace sysmetrics {
namespace {

const std::string kDir = SYSMETRICS_TEST_PLUGIN_DIR;

std::string Path(const std::string& name) { return kDir + "/" + name + ".so"; }

using testing::Contains;
using testing::LinesWith;
using testing::LogCapture;
using testing::TempDir;

// What dlopen itself says about file: the text the loader must pass on.
std::string DlopenError(const std::string& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) {
    dlclose(handle);
    return "";
  }
  // NOLINTNEXTLINE(concurrency-mt-unsafe): glibc keeps it per thread.
  const char* error = dlerror();
  return error != nullptr ? error : "";
}

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

// An exporter of one test plugin's collector, with default options.
std::unique_ptr<Exporter> ExporterOf(const std::string& name) {
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector(name));
  return std::make_unique<Exporter>(std::move(cs));
}

std::string Scrape(Exporter& e, ScrapeReport* report,
                   std::chrono::milliseconds budget = std::chrono::seconds(2)) {
  std::string out;
  ScrapeOptions options;
  options.deadline = Clock::now() + budget;
  e.Scrape(options, &out, report);
  return out;
}

// What a Prometheus parser would object to in a text exposition (empty:
// nothing): bytes that are not UTF-8, a malformed line, an invalid metric or
// label name (including the reserved "__" prefix), a sample outside the
// family of the TYPE line before it, a TYPE line or a series twice.
std::string ExpositionProblems(const std::string& text) {
  if (!IsValidUtf8(text)) return "not UTF-8";
  const std::string name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const std::string label =
      R"((?!__)[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")";
  const std::regex help("# HELP (" + name + ") .*");
  const std::regex type("# TYPE (" + name +
                        ") (counter|gauge|untyped|histogram|summary)");
  const std::regex sample("(" + name + ")(?:\\{(?:" + label + "(?:," + label +
                          ")*,?)?\\})? [^ ]+");
  std::set<std::string> types;
  std::set<std::string> series;
  std::string family;
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    const std::string where = "line " + std::to_string(++n) + ": ";
    std::smatch m;
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      family = m[1];
      if (!types.insert(family).second) return where + "TYPE twice: " + line;
      continue;
    }
    if (!std::regex_match(line, m, sample)) return where + "malformed: " + line;
    if (family.empty() || !m[1].str().starts_with(family)) {
      return where + "outside its family: " + line;
    }
    if (!series.insert(line.substr(0, line.rfind(' '))).second) {
      return where + "series twice: " + line;
    }
  }
  return "";
}

TEST_CASE("the exposition check itself finds what it should") {
  const std::string ok =
      "# HELP a_total Help.\n# TYPE a_total counter\na_total{x=\"1\\\"\"} 1\n"
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n";
  CHECK(ExpositionProblems(ok).empty());
  for (const char* bad : {
           "# TYPE a gauge\na 1\na 2\n",         // series twice
           "# TYPE a gauge\n# TYPE a gauge\n",   // TYPE twice
           "# TYPE a gauge\nb 1\n",              // outside family
           "# TYPE a gauge\na{__x=\"1\"} 1\n",   // reserved label
           "# TYPE a gauge\na{x=\"\xff\"} 1\n",  // not UTF-8
           "# TYPE bad-name gauge\n",            // invalid name
       }) {
    CHECK_MESSAGE(!ExpositionProblems(bad).empty(), bad);
  }
}

// --- Refused at load -------------------------------------------------------

TEST_CASE("a plugin built for another ABI major is refused naming both") {
  auto r = LoadPlugin(Path("wrong_abi"));
  REQUIRE_FALSE(r.ok());
  // The host speaks the ABI of the header it was built with (1.1 since the
  // flags member; 1.0 before).
  CHECK(Contains(r.error(), "built for plugin ABI 2.0, this host speaks ABI " +
                                std::to_string(SM_ABI_VERSION_MAJOR) + "." +
                                std::to_string(SM_ABI_VERSION_MINOR)));
}

TEST_CASE("an option type that is no sm_option_type is refused, not read") {
  // Under UBSan this also proves the type is never loaded as the enum.
  auto r = LoadPlugin(Path("bad_option_type"));
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.error(), "option 'mystery' has unknown type 99"));
}

TEST_CASE("a shared object without the entry symbol is refused by name") {
  auto r = LoadPlugin(Path("no_entry"));
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.error(), "no entry symbol 'sysmetrics_plugin_entry'"));
}

TEST_CASE("a descriptor name other than the file name is refused") {
  auto r = LoadPlugin(Path("name_mismatch"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "descriptor name 'other' does not match the file name "
        "'name_mismatch.so'");
}

TEST_CASE("missing files and files that are not ELF: dlerror says why") {
  TempDir dir;
  const std::string missing = dir.File("does_not_exist.so");
  const std::string not_elf = dir.File("not_elf.so");
  std::ofstream(not_elf) << std::string(128, 'x');  // longer than a header
  for (const std::string& file : {missing, not_elf}) {
    CAPTURE(file);
    auto r = LoadPlugin(file);
    REQUIRE_FALSE(r.ok());
    const std::string why = DlopenError(file);
    REQUIRE_FALSE(why.empty());
    CHECK(r.error() == "cannot load: " + why);
  }
  CHECK(Contains(LoadPlugin(missing).error(), "No such file or directory"));
  CHECK(Contains(LoadPlugin(not_elf).error(), "invalid ELF header"));
}

TEST_CASE("create failing refuses the plugin with its own reason and status") {
  auto plugin = LoadPlugin(Path("create_fails"));
  REQUIRE(plugin.ok());
  PluginOptions options =
      PluginOptions::Defaults(plugin.value()->info().schema);
  sm_status st = SM_OK;
  auto c = Collector::Create(plugin.value(), options, {}, &st);
  REQUIRE_FALSE(c.ok());
  CHECK(st == SM_ERR);
  CHECK(c.error() ==
        "create failed (status 1): create_fails: intentional failure");
  // SM_ERR_CONFIG reaches the caller, which treats it as a configuration
  // error (see the BuildExporter tests below).
  options.FindMutable("status")->i = SM_ERR_CONFIG;
  c = Collector::Create(plugin.value(), options, {}, &st);
  REQUIRE_FALSE(c.ok());
  CHECK(st == SM_ERR_CONFIG);
  CHECK(c.error() ==
        "create failed (status 4): create_fails: intentional failure");
}

// --- Isolated at scrape ----------------------------------------------------

TEST_CASE("a failing collect costs only its own families, every scrape") {
  LogCapture log;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("c_plugin"));
  cs.push_back(MakeCollector("collect_fails"));
  cs.push_back(MakeCollector("throws"));  // C++: Collect throws
  Exporter e(std::move(cs));
  for (int i = 1; i <= 3; ++i) {
    CAPTURE(i);
    ScrapeReport report;
    const std::string out = Scrape(e, &report);
    CHECK(ExpositionProblems(out).empty());
    REQUIRE(report.collectors.size() == 3);
    CHECK(report.collectors[0].success);
    CHECK_FALSE(report.collectors[1].success);
    CHECK(report.collectors[1].error ==
          "/fake/file:7: intentional parse failure");
    CHECK_FALSE(report.collectors[2].success);
    CHECK(report.collectors[2].error == "boom from C++");
    CHECK(Contains(out, "sysmetrics_c_plugin_answer{greeting=\"hello\"} 42"));
    CHECK(Contains(out, "sysmetrics_c_plugin_items{item=\"b\"} 1"));
    CHECK(Contains(out,
                   "sysmetrics_collector_success{collector=\"c_plugin\"} 1"));
    CHECK(Contains(
        out, "sysmetrics_collector_success{collector=\"collect_fails\"} 0"));
    CHECK(
        Contains(out, "sysmetrics_collector_success{collector=\"throws\"} 0"));
    CHECK_FALSE(Contains(out, "sysmetrics_collect_fails_partial"));
    CHECK_FALSE(Contains(out, "sysmetrics_throws_partial"));
    const std::string n = std::to_string(i);
    CHECK(Contains(
        out, "sysmetrics_collector_errors_total{collector=\"collect_fails\"} " +
                 n + "\n"));
    CHECK(Contains(
        out,
        "sysmetrics_collector_errors_total{collector=\"throws\"} " + n + "\n"));
    CHECK(Contains(
        out, "sysmetrics_collector_errors_total{collector=\"c_plugin\"} 0\n"));
  }
  CHECK(LinesWith(log.text(),
                  "collector failed collector=collect_fails "
                  "error=\"/fake/file:7: intentional parse failure\"")
            .size() == 3);
  CHECK(LinesWith(log.text(),
                  "collector failed collector=throws error=\"boom from C++\"")
            .size() == 3);
  CHECK_FALSE(Contains(log.text(), "collector failed collector=c_plugin"));
}

TEST_CASE("invalid names, bad UTF-8 and duplicates are refused or repaired") {
  LogCapture log;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("bad_names"));
  Exporter e(std::move(cs));
  ScrapeReport report;
  const std::string out = Scrape(e, &report);
  CHECK(report.collectors[0].success);
  CHECK(ExpositionProblems(out).empty());
  CHECK_FALSE(Contains(out, "bad-name"));
  CHECK_FALSE(Contains(out, "__x"));
  CHECK(Contains(out, "sysmetrics_bad_names_ok{value=\"ab\xEF\xBF\xBD\"} 2\n"));
  CHECK(Contains(out, "sysmetrics_bad_names_ok{k=\"same\"} 3\n"));
  CHECK_FALSE(Contains(out, "sysmetrics_bad_names_ok{k=\"same\"} 4"));
  CHECK_FALSE(Contains(out, "sysmetrics_bad_names_type"));
  CHECK_FALSE(Contains(out, "sysmetrics_bad_names_ok 5"));  // not misfiled
  CHECK(LinesWith(out, "# TYPE sysmetrics_bad_names_ok ").size() == 1);
  CHECK(Contains(out,
                 "# HELP sysmetrics_bad_names_ok Help with a\\nnewline "
                 "and a \\\\ backslash."));
  // One line per refusal or repair: the first of a collect at warn, the rest
  // at debug.
  const std::string prefix = "plugin output refused collector=bad_names ";
  const std::pair<const char*, std::size_t> reasons[] = {
      {"invalid metric name 'bad-name'", 1},
      {"sample without a valid current family", 2},  // after each refusal
      {"invalid label name '__x' in 'sysmetrics_bad_names_ok'", 1},
      {"label value is not UTF-8; invalid bytes replaced", 1},
      {"duplicate series in 'sysmetrics_bad_names_ok' refused; the first "
       "was kept",
       1},
      {"family 'sysmetrics_bad_names_type' has unknown type", 1},
      {"metric family 'sysmetrics_bad_names_ok' emitted twice", 1},
  };
  for (const auto& r : reasons) {
    CAPTURE(r.first);
    CHECK(LinesWith(log.text(), prefix + "reason=\"" + r.first + "\"").size() ==
          r.second);
  }
  CHECK(LinesWith(log.text(), "warning " + prefix).size() == 1);
  CHECK(LinesWith(log.text(), prefix).size() == 8);
}

TEST_CASE("the sample limit bounds a runaway plugin and fails it") {
  // flood: a million samples. flood_families: a million empty families,
  // every status ignored, which count against the same limit, and stay
  // cheap (the duplicate-name check is indexed; past the limit each call is
  // refused at once). Both fail alone, well inside the deadline, and the
  // refusals past the limit are not logged one by one.
  struct Case {
    const char* plugin;
    const char* leaked;  // what must not reach the output
  };
  for (const Case& c : {Case{"flood", "sysmetrics_flood{"},
                        Case{"flood_families", "sysmetrics_flood_families_"}}) {
    CAPTURE(c.plugin);
    LogCapture log;
    CollectorSettings settings;
    settings.sample_limit = 1000;
    std::vector<std::unique_ptr<Collector>> cs;
    cs.push_back(MakeCollector(c.plugin, settings));
    cs.push_back(MakeCollector("c_plugin"));
    Exporter e(std::move(cs));
    ScrapeReport report;
    const std::string out = Scrape(e, &report, std::chrono::seconds(30));
    REQUIRE(report.collectors.size() == 2);
    CHECK_FALSE(report.collectors[0].success);
    CHECK(Contains(report.collectors[0].error, "sample limit of 1000"));
    CHECK_FALSE(Contains(out, c.leaked));
    CHECK(report.collectors[1].success);
    CHECK(ExpositionProblems(out).empty());
    CHECK(LinesWith(log.text(), c.leaked).size() < 10);
  }
}

std::string Counter(const std::string& family, const std::string& collector,
                    int value) {
  return family + "{collector=\"" + collector + "\"} " + std::to_string(value) +
         "\n";
}

std::string Refused(const std::string& collector, int value) {
  return Counter("sysmetrics_collector_refused_families_total", collector,
                 value);
}

std::string Success(const std::string& collector, int value) {
  return Counter("sysmetrics_collector_success", collector, value);
}

// Each scrape decides clashes for its own names: a thread reuses the last
// scrape's answer only for the same names, so a name that starts or stops
// clashing between scrapes is decided afresh. The family dropped is charged
// to the collector that emitted it.
TEST_CASE("a family that starts and stops clashing is dropped only then") {
  LogCapture log;
  const auto e = ExporterOf("alternates");
  // The gauge is named like the histogram's _sum series in even scrapes.
  int refused = 0;
  for (int i = 1; i <= 4; ++i) {
    CAPTURE(i);
    const bool clash = i % 2 == 0;
    ScrapeReport report;
    const std::string out = Scrape(*e, &report);
    CHECK(ExpositionProblems(out).empty());
    CHECK(report.collectors[0].success);
    CHECK(Contains(out, "sysmetrics_alternates_h_sum 1\n"));
    CHECK(Contains(out, "sysmetrics_alternates_g 7\n") == !clash);
    CHECK_FALSE(Contains(out, "sysmetrics_alternates_h_sum 7"));
    if (clash) ++refused;
    CHECK(Contains(out, Refused("alternates", refused)));
  }
  CHECK(LinesWith(log.text(),
                  "metric family dropped: its name is already used by the "
                  "host, a collector merged before this one, or a collector "
                  "that served it before collector=alternates "
                  "family=sysmetrics_alternates_h_sum")
            .size() == 2);
}

// --- Name ownership ----------------------------------------------------------

// A procfs tree with a /proc/stat of two CPUs: cpu serves
// sysmetrics_cpus_online 2.
class TwoCpus {
 public:
  TwoCpus() {
    std::ofstream(dir_.File("stat"))
        << "cpu  300 5 80 4000 12 0 3 1 0 0\n"
           "cpu0 150 2 40 2000 6 0 1 0 0 0\n"
           "cpu1 150 3 40 2000 6 0 2 1 0 0\n"
           "intr 1 0\nctxt 7\nbtime 1700000000\nprocesses 9\n"
           "procs_running 1\nprocs_blocked 0\n";
  }
  CollectorSettings Settings() const {
    CollectorSettings settings;
    settings.procfs_root = dir_.path();
    return settings;
  }

 private:
  TempDir dir_;
};

std::unique_ptr<Collector> MakeBuiltIn(const std::string& name,
                                       const CollectorSettings& settings) {
  auto plugin =
      LoadPlugin(std::string(SYSMETRICS_PLUGIN_BUILD_DIR "/") + name + ".so");
  if (!plugin.ok()) throw std::runtime_error(plugin.error());
  auto c = Collector::Create(
      plugin.value(), PluginOptions::Defaults(plugin.value()->info().schema),
      settings);
  if (!c.ok()) throw std::runtime_error(c.error());
  return c.take();
}

// An exporter of cpu (reading procfs), c_plugin, and offender at index
// place among them.
std::unique_ptr<Exporter> OwnersAnd(const std::string& offender,
                                    std::size_t place, const TwoCpus& procfs) {
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeBuiltIn("cpu", procfs.Settings()));
  cs.push_back(MakeCollector("c_plugin"));
  cs.insert(cs.begin() + static_cast<std::ptrdiff_t>(place),
            MakeCollector(offender));
  return std::make_unique<Exporter>(std::move(cs));
}

// What every scrape with cpu, c_plugin and plugins stealing their names
// (collectors in all) must show: the owners' series and success untouched,
// nothing stolen.
void CheckOwnersKept(const std::string& out, std::size_t collectors = 3) {
  CHECK(ExpositionProblems(out).empty());
  CHECK(Contains(out, "\nsysmetrics_cpus_online 2\n"));
  CHECK(Contains(out, "sysmetrics_c_plugin_answer{greeting=\"hello\"} 42\n"));
  CHECK_FALSE(Contains(out, " 999\n"));
  CHECK_FALSE(Contains(out, "\nnode_load1"));
  CHECK(LinesWith(out, "sysmetrics_collector_success{").size() == collectors);
  CHECK(Contains(out, Success("cpu", 1)));
  CHECK(Contains(out, Success("c_plugin", 1)));
  CHECK(Contains(out, Refused("cpu", 0)));
  CHECK(Contains(out, Refused("c_plugin", 0)));
}

TEST_CASE(
    "a plugin sorting first cannot take a built-in's or a plugin's name") {
  const TwoCpus procfs;
  // The offender's place in the order must not matter: first (its file
  // name sorts before cpu's), in the middle, last.
  for (const std::size_t place : {0, 1, 2}) {
    CAPTURE(place);
    LogCapture log;
    const auto e = OwnersAnd("aaa_steal", place, procfs);
    for (int i = 1; i <= 3; ++i) {
      CAPTURE(i);
      ScrapeReport report;
      const std::string out = Scrape(*e, &report);
      CheckOwnersKept(out);
      // Refused as emitted, every time: all four names lie outside
      // sysmetrics_aaa_steal_*, so this does not wait for cpu to serve.
      CHECK(Contains(out, Refused("aaa_steal", 4 * i)));
      for (const char* family :
           {"sysmetrics_cpus_online", "sysmetrics_c_plugin_answer",
            "node_load1", "sysmetrics_collector_success"}) {
        CAPTURE(family);
        for (const char* call : {"begin_family", "emit_sample"}) {
          CHECK(
              Contains(out, std::string("sysmetrics_aaa_steal_status{call=\"") +
                                call + "\",family=\"" + family + "\"} 5\n"));
        }
      }
    }
    // Logged once per family, naming the offender; never the owners.
    const std::string text = log.text();
    CHECK(LinesWith(text, "warning metric family refused").size() == 4);
    CHECK(LinesWith(text, "metric family refused").size() == 12);
    CHECK(LinesWith(text,
                    "warning metric family refused: the collector does not "
                    "own its name collector=aaa_steal "
                    "family=sysmetrics_cpus_online reason=")
              .size() == 1);
    const std::string warning =
        "warning metric family refused: the collector does not own its name "
        "collector=aaa_steal ";
    CHECK(LinesWith(text, warning +
                              "family=node_load1 reason=\"'node_load1' is "
                              "outside the collector's namespace")
              .size() == 1);
    CHECK(LinesWith(text, warning +
                              "family=sysmetrics_collector_success reason=\"'"
                              "sysmetrics_collector_success' is a name of the "
                              "exporter's own metrics")
              .size() == 1);
    CHECK(LinesWith(text, "collector=cpu family=").empty());
    CHECK(LinesWith(text, "collector=c_plugin family=").empty());
  }
}

TEST_CASE("a name a built-in serves is refused inside a plugin's namespace") {
  // cpus owns sysmetrics_cpus_* but cpu, shipped, serves
  // sysmetrics_cpus_online: before cpu has served it the merge drops it
  // (shipped collectors merge first), after that begin_family refuses it.
  // Either way cpu's value stays and cpus is charged once per scrape.
  const TwoCpus procfs;
  for (const bool cpus_first : {true, false}) {
    CAPTURE(cpus_first);
    LogCapture log;
    const auto e = OwnersAnd("cpus", cpus_first ? 0 : 2, procfs);
    for (int i = 1; i <= 3; ++i) {
      CAPTURE(i);
      ScrapeReport report;
      const std::string out = Scrape(*e, &report);
      CheckOwnersKept(out);
      CHECK(Contains(out, Refused("cpus", 4 * i)));
      // cpu served its name in the scrape before: refused as emitted.
      if (i > 1) {
        CHECK(Contains(out,
                       "sysmetrics_cpus_status{call=\"begin_family\",family=\""
                       "sysmetrics_cpus_online\"} 5\n"));
      }
    }
    CHECK(Contains(log.text(),
                   "collector=cpus family=sysmetrics_cpus_online "
                   "reason=\"'sysmetrics_cpus_online' is served by a plugin "
                   "shipped with sysmetrics\""));
    CHECK(LinesWith(log.text(), "collector=cpu family=").empty());
  }
}

TEST_CASE("a built-in's name stays its own while the built-in fails") {
  // cpu fails in even scrapes (its stat file is empty then); cpus may not
  // take sysmetrics_cpus_online over in those.
  LogCapture log;
  const TwoCpus procfs;
  const std::string stat = procfs.Settings().procfs_root + "/stat";
  std::string good;
  {
    std::ifstream in(stat);
    std::getline(in, good, '\0');
  }
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("cpus"));
  cs.push_back(MakeBuiltIn("cpu", procfs.Settings()));
  Exporter e(std::move(cs));
  for (int i = 1; i <= 4; ++i) {
    CAPTURE(i);
    const bool cpu_ok = i % 2 == 1;
    std::ofstream(stat) << (cpu_ok ? good : "");
    ScrapeReport report;
    const std::string out = Scrape(e, &report);
    CHECK(ExpositionProblems(out).empty());
    CHECK(Contains(out, Success("cpu", cpu_ok ? 1 : 0)));
    CHECK(Contains(out, "\nsysmetrics_cpus_online 2\n") == cpu_ok);
    CHECK_FALSE(Contains(out, " 999\n"));
    CHECK(Contains(out, Refused("cpus", 4 * i)));
    CHECK(Contains(out, Refused("cpu", 0)));
  }
}

TEST_CASE("a rebuilt exporter (SIGHUP) keeps every name with its owner") {
  // The order of the files and the moment a plugin is added do not matter:
  // an exporter built afresh with the offenders (a reload) serves the same
  // series as before, from its first scrape, and charges the offenders.
  LogCapture log;
  const TwoCpus procfs;
  TempDir dir;
  for (const char* name : {"aaa_steal", "cpus", "c_plugin"}) {
    std::filesystem::copy_file(Path(name), dir.File(std::string(name) + ".so"));
  }
  std::filesystem::copy_file(SYSMETRICS_PLUGIN_BUILD_DIR "/cpu.so",
                             dir.File("cpu.so"));
  Config config;
  config.plugin_dir = dir.path();
  config.procfs = procfs.Settings().procfs_root;
  config.check_plugin_permissions = false;
  config.collectors["c_plugin"].enabled = true;
  const auto scrape = [&](Exporter& e) {
    ScrapeReport report;
    return Scrape(e, &report);
  };
  // HELP, TYPE and the sample.
  const auto cpus_online = [](const std::string& out) {
    return LinesWith(out, "sysmetrics_cpus_online ");
  };
  auto before = BuildExporter(config, /*record_crashes=*/false);
  REQUIRE(before.ok());
  const std::string first = scrape(*before.value());
  CHECK(Contains(first, "\nsysmetrics_cpus_online 2\n"));
  // The reload adds both offenders, which sort before and after cpu: in
  // helper processes (their default), then in this process, where the
  // refusals are logged here too.
  for (const bool isolate : {true, false}) {
    CAPTURE(isolate);
    config.collectors["aaa_steal"].enabled = true;
    config.collectors["aaa_steal"].isolate = isolate;
    config.collectors["cpus"].enabled = true;
    config.collectors["cpus"].isolate = isolate;
    auto after = BuildExporter(config, /*record_crashes=*/false);
    REQUIRE(after.ok());
    REQUIRE(after.value()->collectors().size() == 4);
    for (int i = 1; i <= 3; ++i) {
      CAPTURE(i);
      const std::string out = scrape(*after.value());
      CheckOwnersKept(out, 4);
      CHECK(cpus_online(out).size() == 3);
      CHECK(cpus_online(out) == cpus_online(first));
      CHECK(Contains(out, Success("aaa_steal", 1)));
      CHECK(Contains(out, Success("cpus", 1)));
      CHECK(Contains(out, Refused("aaa_steal", 4 * i)));
      CHECK(Contains(out, Refused("cpus", 4 * i)));
      // Once cpu has served its name, begin_family refuses it to the
      // offender as it is emitted, in a helper process as in this one.
      if (i >= 2) {
        CHECK(Contains(out,
                       "sysmetrics_cpus_status{call=\"begin_family\","
                       "family=\"sysmetrics_cpus_online\"} 5\n"));
      }
    }
  }
  CHECK(LinesWith(log.text(), "collector=cpu family=").empty());
  CHECK_FALSE(LinesWith(log.text(), "collector=aaa_steal family=").empty());
}

TEST_CASE("a repeated series is refused to the plugin as it is emitted") {
  LogCapture log;
  const auto e = ExporterOf("repeats_series");
  ScrapeReport report;
  const std::string out = Scrape(*e, &report);
  CHECK(report.collectors[0].success);
  CHECK(ExpositionProblems(out).empty());
  CHECK(Contains(out,
                 "sysmetrics_repeats_series_value{a=\"1\",b=\"2\"} 1\n"
                 "sysmetrics_repeats_series_value{a=\"1\",b=\"3\"} 3\n"));
  CHECK_FALSE(Contains(out, "sysmetrics_repeats_series_value{b=\"2\""));
  CHECK(Contains(out,
                 "sysmetrics_repeats_series_status{sample=\"first\"} 0\n"
                 "sysmetrics_repeats_series_status{sample=\"repeat\"} 5\n"
                 "sysmetrics_repeats_series_status{sample=\"other\"} 0\n"));
  CHECK(Contains(out, Refused("repeats_series", 0)));  // a sample, not a family
  CHECK(LinesWith(log.text(),
                  "plugin output refused collector=repeats_series "
                  "reason=\"duplicate series in "
                  "'sysmetrics_repeats_series_value' refused; the first was "
                  "kept\"")
            .size() == 1);
}

// A slow collector whose collect() sleeps sleep_ms and then waits while
// the file hold exists (empty: no hold).
std::unique_ptr<Collector> MakeSlow(std::int64_t sleep_ms,
                                    std::chrono::milliseconds timeout,
                                    const std::string& hold = "") {
  auto plugin = LoadPlugin(Path("slow"));
  if (!plugin.ok()) throw std::runtime_error(plugin.error());
  PluginOptions options =
      PluginOptions::Defaults(plugin.value()->info().schema);
  options.FindMutable("sleep_ms")->i = sleep_ms;
  options.FindMutable("hold_while")->s = hold;
  CollectorSettings settings;
  settings.timeout = timeout;
  auto c = Collector::Create(plugin.value(), options, settings);
  if (!c.ok()) throw std::runtime_error(c.error());
  return c.take();
}

// A file that holds a slow collector (its option hold_while) until the
// test lets it go, or the test ends: an exporter destroyed while a run is
// held would wait for it.
class Hold {
 public:
  explicit Hold(std::string path) : path_(std::move(path)) {
    std::ofstream(path_).put('x');
  }
  ~Hold() { Release(); }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  void Release() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }

 private:
  std::string path_;
};

// A deadline no scrape in these tests should come near: a scrape that
// returns before it returned for the reason the test looks for.
constexpr std::chrono::seconds kFarAway{60};

// Scrapes until collector index of e succeeds (a run still going from an
// earlier scrape is not started again, so these scrapes call nothing);
// false if it did not within kFarAway.
bool ScrapeUntilSuccess(Exporter& e, std::size_t index, std::string* out) {
  const auto give_up = Clock::now() + kFarAway;
  while (Clock::now() < give_up) {
    ScrapeReport report;
    *out = Scrape(e, &report, kFarAway);
    if (report.collectors.at(index).success) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_CASE("a slow collector misses its deadline and is not started twice") {
  // The slow collector cannot finish before the test removes hold, and the
  // scrape's own deadline is far away: a scrape that returns with it
  // unfinished was ended by the collector's 0.2 s timeout.
  TempDir dir;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeSlow(0, std::chrono::milliseconds(200), dir.File("hold")));
  cs.push_back(MakeCollector("c_plugin"));
  Exporter e(std::move(cs));
  Hold hold(dir.File("hold"));  // released before e is destroyed
  ScrapeReport report;
  std::string out = Scrape(e, &report, kFarAway);
  REQUIRE(report.collectors.size() == 2);
  CHECK_FALSE(report.collectors[0].success);
  // The budget it was given is its own timeout, not the scrape's 60 s.
  CHECK(Contains(report.collectors[0].error, "did not finish before"));
  CHECK(report.collectors[0].seconds > 0);
  CHECK(report.collectors[0].seconds <= 0.2);
  CHECK(report.collectors[1].success);
  // Still running: the next scrape reports it failed without starting it
  // or waiting for it (a scrape that joined the run would report a missed
  // deadline and the time it waited).
  out = Scrape(e, &report, kFarAway);
  CHECK(Contains(report.collectors[0].error, "still running"));
  CHECK(report.collectors[0].seconds == 0);
  CHECK(report.collectors[1].success);
  CHECK_FALSE(Contains(out, "sysmetrics_slow_calls"));
  // Released, the first run finishes; the first scrape to succeed is its
  // second call: no scrape in between started it again.
  hold.Release();
  REQUIRE(ScrapeUntilSuccess(e, 0, &out));
  CHECK(Contains(out, "sysmetrics_slow_calls 2\n"));
}

// Waits until c has no run in flight; false if it still had one after
// kFarAway.
bool WaitUntilIdle(const Collector& c) {
  const auto give_up = Clock::now() + kFarAway;
  while (c.running()) {
    if (Clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST_CASE("a scrape after a late run has finished reuses its waiter safely") {
  // The run a scrape gave up on finishes on a pool thread and releases the
  // scrape thread's waiter; the next scrape on that thread reuses it. (The
  // reset of its count was once unlocked: a data race TSan found.) Each run
  // is held past its 30 ms timeout, then let go, and the next scrape
  // starts only once it is done: a sleep could end before the run did.
  TempDir dir;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeSlow(0, std::chrono::milliseconds(30), dir.File("hold")));
  const Collector& slow = *cs[0];
  Exporter e(std::move(cs));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Hold hold(dir.File("hold"));
    ScrapeReport report;
    Scrape(e, &report, kFarAway);
    REQUIRE(report.collectors.size() == 1);
    CHECK(Contains(report.collectors[0].error, "did not finish before"));
    hold.Release();
    REQUIRE(WaitUntilIdle(slow));
  }
}

TEST_CASE("a scrape sleeps, not spins, while runs it gave up on finish") {
  // Three runs with their own deadlines: A is given up at 50 ms and
  // finishes at 100 ms, B is given up at 150 ms and runs on (held until the
  // test lets it go), C finishes at 1 s. A wait that counted A and B as
  // pending returned at once from 150 ms until C finished: a busy loop on
  // the scraping thread.
  TempDir dir;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeSlow(100, std::chrono::milliseconds(50)));
  cs.push_back(MakeSlow(0, std::chrono::milliseconds(150), dir.File("hold")));
  cs.push_back(MakeSlow(1000, std::chrono::milliseconds(0)));
  Exporter e(std::move(cs));
  Hold hold(dir.File("hold"));  // released before e is destroyed
  timespec cpu0{};
  timespec cpu1{};
  REQUIRE(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0) == 0);
  const auto t0 = Clock::now();
  ScrapeReport report;
  Scrape(e, &report, kFarAway);
  const auto took = Clock::now() - t0;
  REQUIRE(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1) == 0);
  const double cpu_ms =
      (cpu1.tv_sec - cpu0.tv_sec) * 1e3 + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e6;
  REQUIRE(report.collectors.size() == 3);
  CHECK_FALSE(report.collectors[0].success);
  CHECK_FALSE(report.collectors[1].success);
  CHECK(report.collectors[2].success);
  // Woken when C finished: B cannot have ended (it is held), and a scrape
  // that slept to its own deadline would have taken 60 s.
  CHECK(took < kFarAway / 2);
  hold.Release();
  // Sleeping costs the thread next to nothing; the spin cost all of the
  // 850 ms from B's deadline to C's end that it got a CPU for (at least
  // several hundred ms even on a busy machine).
  CHECK(cpu_ms < 100);
}

TEST_CASE("a replaced exporter is destroyed by Reap once no scrape holds it") {
  // Not by the worker whose scrape lets go last: destroying one may wait
  // for a late run, with that scrape's response not yet sent.
  ExporterHolder holder;
  holder.Set(
      std::make_shared<Exporter>(std::vector<std::unique_ptr<Collector>>{}));
  std::shared_ptr<Exporter> scraping = holder.Get();  // a scrape in flight
  const std::weak_ptr<Exporter> old = scraping;
  holder.Set(
      std::make_shared<Exporter>(std::vector<std::unique_ptr<Collector>>{}));
  CHECK(holder.Get() != scraping);
  holder.Reap();
  CHECK(holder.retired() == 1);  // still held by the scrape
  scraping.reset();              // the scrape ends: nothing destroyed yet
  CHECK_FALSE(old.expired());
  holder.Reap();
  CHECK(old.expired());
  CHECK(holder.retired() == 0);
  // At shutdown, every replaced one goes, held or not.
  scraping = holder.Get();
  holder.Set(nullptr);
  holder.Reap(/*all=*/true);
  CHECK(holder.retired() == 0);
  CHECK(holder.Get() == nullptr);
  CHECK(scraping.use_count() == 1);
}

// --- A plain C plugin ------------------------------------------------------

TEST_CASE("a C plugin reads its option defaults through the host api") {
  LogCapture log;
  auto plugin = LoadPlugin(Path("c_plugin"));
  REQUIRE(plugin.ok());
  const PluginInfo& info = plugin.value()->info();
  CHECK(info.version == "1.2.3");
  CHECK(info.description == "A plain C test plugin.");
  REQUIRE(info.schema.size() == 5);
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("c_plugin"));
  Exporter e(std::move(cs));
  ScrapeReport report;
  const std::string out = Scrape(e, &report);
  CHECK(report.collectors[0].success);
  CHECK(ExpositionProblems(out).empty());
  CHECK(Contains(out,
                 "# TYPE sysmetrics_c_plugin_answer gauge\n"
                 "sysmetrics_c_plugin_answer{greeting=\"hello\"} 42\n"));
  CHECK(Contains(out, "sysmetrics_c_plugin_ratio 0.5\n"));  // not loud
  CHECK(Contains(out,
                 "# TYPE sysmetrics_c_plugin_items gauge\n"
                 "sysmetrics_c_plugin_items{item=\"a\"} 0\n"
                 "sysmetrics_c_plugin_items{item=\"b\"} 1\n#"));
  CHECK(Contains(out,
                 "# TYPE sysmetrics_c_plugin_collections_total counter\n"
                 "sysmetrics_c_plugin_collections_total 1\n"));
  CHECK(log.Has("c_plugin created collector=c_plugin"));  // api->log
}

TEST_CASE("a C plugin sees configured option values") {
  auto plugin = LoadPlugin(Path("c_plugin"));
  REQUIRE(plugin.ok());
  PluginOptions options =
      PluginOptions::Defaults(plugin.value()->info().schema);
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
  CHECK(ExpositionProblems(out).empty());
  CHECK(Contains(
      out, "sysmetrics_c_plugin_answer{greeting=\"hi \\\"there\\\"\"} 7\n"));
  CHECK(Contains(out, "sysmetrics_c_plugin_ratio 5\n"));  // 0.5 * 10, loud
  CHECK(Contains(out, "sysmetrics_c_plugin_items{item=\"z\"} 2\n"));
  CHECK_FALSE(Contains(out, "item=\"a\""));
  CHECK(Contains(out, "sysmetrics_c_plugin_collections_total 1\n"));
  CHECK(Contains(Scrape(e, &report),
                 "sysmetrics_c_plugin_collections_total 2\n"));
}

TEST_CASE("skipped lines are counted every time, logged once per line") {
  LogCapture log;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeCollector("skips_lines"));
  Exporter e(std::move(cs));
  for (int i = 1; i <= 3; ++i) {
    CAPTURE(i);
    ScrapeReport report;
    const std::string out = Scrape(e, &report);
    REQUIRE(report.collectors.size() == 1);
    CHECK(report.collectors[0].success);  // odd lines cost only themselves
    CHECK(Contains(out,
                   "sysmetrics_collector_skipped_lines_total{collector=\""
                   "skips_lines\"} " +
                       std::to_string(4 * i) + "\n"));
  }
  // Lines 1-3 once, and the line new to each collect each time.
  const auto logged = LinesWith(log.text(), "line skipped");
  CHECK(logged.size() == 6);
  CHECK(LinesWith(log.text(),
                  "line skipped collector=skips_lines file=/fake/skip line=2 "
                  "reason=\"not a number\"")
            .size() == 1);
  CHECK(LinesWith(log.text(), "line=1003 reason=\"new every time\"").size() ==
        1);
}

TEST_CASE("skipped lines past the log bound are counted, not logged") {
  LogCapture log;
  auto plugin = LoadPlugin(Path("skips_lines"));
  REQUIRE(plugin.ok());
  PluginOptions options =
      PluginOptions::Defaults(plugin.value()->info().schema);
  options.FindMutable("lines")->i = 150;
  auto c = Collector::Create(plugin.value(), options, {});
  REQUIRE(c.ok());
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(c.take());
  Exporter e(std::move(cs));
  ScrapeReport report;
  Scrape(e, &report);
  const std::string out = Scrape(e, &report);
  CHECK(Contains(out,
                 "sysmetrics_collector_skipped_lines_total{collector=\""
                 "skips_lines\"} 302\n"));
  CHECK(LinesWith(log.text(), "line skipped").size() ==
        sm_host::kMaxLoggedLines);
  CHECK(LinesWith(log.text(), "more skipped lines").size() == 1);
}

// --- ABI versions ----------------------------------------------------------

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

TEST_CASE("only the built-ins of this build count as shipped") {
  auto cpu = LoadPlugin(SYSMETRICS_PLUGIN_BUILD_DIR "/cpu.so");
  REQUIRE(cpu.ok());
  CHECK(cpu.value()->info().shipped);
  auto c = LoadPlugin(Path("c_plugin"));
  REQUIRE(c.ok());
  CHECK_FALSE(c.value()->info().shipped);
  // A file put in place of a built-in, with another version, is not.
  CHECK(IsShippedPlugin("textfile", cpu.value()->info().version));
  CHECK_FALSE(IsShippedPlugin("cpu", "0.0.0-other"));
  CHECK_FALSE(IsShippedPlugin("c_plugin", cpu.value()->info().version));
  CHECK_FALSE(IsShippedPlugin("", cpu.value()->info().version));
  CHECK_FALSE(IsShippedPlugin("cp", cpu.value()->info().version));
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

// --- BuildExporter (app.cpp) -----------------------------------------------

TEST_CASE(
    "BuildExporter refuses bad plugins by file and reason, keeps the rest") {
  LogCapture log;
  Config config;
  config.plugin_dir = kDir;
  for (const char* name :
       {"wrong_abi", "no_entry", "create_fails", "c_plugin", "name_mismatch"}) {
    config.collectors[name].enabled = true;
  }
  auto e = BuildExporter(config, /*record_crashes=*/false);
  REQUIRE(e.ok());
  REQUIRE(e.value()->collectors().size() == 1);
  CHECK(e.value()->collectors()[0]->name() == "c_plugin");
  const std::string host_abi = std::to_string(SM_ABI_VERSION_MAJOR) + "." +
                               std::to_string(SM_ABI_VERSION_MINOR);
  const std::pair<std::string, std::string> refusals[] = {
      {"wrong_abi",
       "built for plugin ABI 2.0, this host speaks ABI " + host_abi},
      {"no_entry", "no entry symbol 'sysmetrics_plugin_entry'"},
      {"create_fails", "create_fails: intentional failure"},
      {"name_mismatch", "descriptor name 'other' does not match"},
  };
  for (const auto& r : refusals) {
    CAPTURE(r.first);
    const auto lines =
        LinesWith(log.text(), "plugin refused file=" + Path(r.first) + " ");
    REQUIRE(lines.size() == 1);
    CHECK(Contains(lines[0], " reason=\""));
    CHECK(Contains(lines[0], r.second));
  }
  CHECK(LinesWith(log.text(), "plugin refused").size() == 4);
  CHECK(LinesWith(log.text(), "plugin loaded collector=c_plugin").size() == 1);
  // Not enabled: never loaded, so never refused.
  CHECK_FALSE(Contains(log.text(), "plugin refused file=" + Path("throws")));
  ScrapeReport report;
  CHECK(Contains(Scrape(*e.value(), &report),
                 "sysmetrics_c_plugin_answer{greeting=\"hello\"} 42\n"));
  // --check-config prints the same verdicts, one per enabled collector.
  std::ostringstream verdicts;
  CHECK(PrintCollectorVerdicts(*e.value(), verdicts) == 4);
  const std::string text = verdicts.str();
  CHECK(Contains(text, "c_plugin: loaded (" + Path("c_plugin") + ")\n"));
  CHECK(Contains(text, "create_fails: refused (" + Path("create_fails") +
                           "): create failed (status 1): create_fails: "
                           "intentional failure\n"));
  CHECK(text.find("c_plugin") < text.find("create_fails: "));
  CHECK(text.find("create_fails: ") < text.find("wrong_abi: "));
}

TEST_CASE("BuildExporter leaves a quarantined plugin unloaded, reported") {
  LogCapture log;
  TempDir state;
  Config config;
  config.plugin_dir = kDir;
  config.state_dir = state.File("");
  config.collectors["c_plugin"].enabled = true;
  // In this process: only there can it crash the exporter.
  config.collectors["c_plugin"].isolate = false;
  REQUIRE(PrepareQuarantine(config.state_dir).ok());
  const std::string record = state.File("quarantine/c_plugin");
  QuarantineRecord r;
  r.collector = "c_plugin";
  r.file = Path("c_plugin");
  r.identity = IdentityOf(Path("c_plugin")).value();
  r.call = "create";
  r.signal = "SIGBUS";
  r.time = "2026-12-01T10:00:00.123Z";
  {
    std::ofstream out(record);
    out << FormatQuarantineRecord(r);
  }
  for (const bool serving : {false, true}) {
    auto e = BuildExporter(config, serving);
    REQUIRE(e.ok());
    CHECK(e.value()->collectors().empty());
    REQUIRE(e.value()->refused().size() == 1);
    CHECK(e.value()->refused()[0].reason ==
          "quarantined: crashed the exporter (SIGBUS in create) at "
          "2026-12-01T10:00:00.123Z; fix or replace the plugin file, or "
          "remove " +
              record + " to try it again");
  }
  CHECK_FALSE(Contains(log.text(), "plugin loaded"));

  // Isolated, it cannot crash the exporter: the record does not keep it
  // out, and stays.
  config.collectors["c_plugin"].isolate = true;
  auto isolated = BuildExporter(config, /*record_crashes=*/true);
  REQUIRE(isolated.ok());
  REQUIRE(isolated.value()->collectors().size() == 1);
  CHECK(isolated.value()->collectors()[0]->isolated());
  CHECK(std::filesystem::exists(record));
  config.collectors["c_plugin"].isolate = false;

  // The file changed since: --check-config (not serving) loads it and
  // leaves the record; a start removes it.
  r.identity.mtime_ns += 1;
  {
    std::ofstream out(record);
    out << FormatQuarantineRecord(r);
  }
  auto checked = BuildExporter(config, /*record_crashes=*/false);
  REQUIRE(checked.ok());
  CHECK(checked.value()->collectors().size() == 1);
  CHECK(std::filesystem::exists(record));
  auto started = BuildExporter(config, /*record_crashes=*/true);
  REQUIRE(started.ok());
  CHECK(started.value()->collectors().size() == 1);
  CHECK_FALSE(std::filesystem::exists(record));
  CHECK(LinesWith(log.text(), "quarantine lifted").size() == 1);
}

TEST_CASE("configuration errors about plugins name file and line") {
  TempDir dir;
  const std::string file = dir.File("loader-test.toml");
  CommandLine cl;
  cl.config = file;
  auto build =
      [&](const std::string& toml) -> Result<std::shared_ptr<Exporter>> {
    std::ofstream(file) << toml;
    auto config = LoadConfig(cl);
    if (!config.ok()) return config.status();
    config.value().plugin_dir = kDir;
    return BuildExporter(config.value(), /*record_crashes=*/false);
  };

  auto e = build("[collectors.c_plugin]\nenabled = true\nanswr = 1\n");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error() == file +
                         ":3: unknown key 'answr' in [collectors.c_plugin]; "
                         "valid keys: enabled, timeout_seconds, sample_limit, "
                         "isolate, memory_limit_mib, answer, greeting, loud, "
                         "ratio, items");

  e = build("[collectors.nosuch]\nenabled = true\n");
  REQUIRE_FALSE(e.ok());
  CHECK(Contains(e.error(), file +
                                ":1: unknown collector 'nosuch': no "
                                "nosuch.so in " +
                                kDir));

  // A plugin refusing its options (SM_ERR_CONFIG from create) is a
  // configuration error, not a refused plugin: it points at the options.
  e = build("[collectors.create_fails]\nenabled = true\nstatus = 4\n");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error() ==
        "collector 'create_fails': create failed (status 4): create_fails: "
        "intentional failure (options set at " +
            file + ":3)");
}

}  // namespace
}  // namespace sysmetrics
