// Collectors isolated in helper processes (core/scrape/plugin_helper.hpp)
// against the purpose-built plugins: the output is the in-process output; a
// crash, an abort, a hang, a leak, a plugin that cannot load or create, and a
// helper that speaks garbage each cost that collector only, are named, and
// the helper is restarted. This binary is its own helper (its main
// dispatches --plugin-host, as sysmetrics does).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "plugin/plugin_loader.hpp"
#include "plugin/plugin_wire.hpp"
#include "scrape/collector.hpp"
#include "scrape/exporter.hpp"
#include "scrape/plugin_helper.hpp"
#include "test_support.hpp"

namespace sysmetrics {
namespace {

using testing::Contains;
using testing::LogCapture;
using testing::TempDir;

const std::string kDir = SYSMETRICS_TEST_PLUGIN_DIR;

std::string Path(const std::string& name) { return kDir + "/" + name + ".so"; }

// A helper that crashes must die of its signal, not of a sanitizer report
// (AddressSanitizer's and ThreadSanitizer's SEGV handlers would exit with
// a status of their own).
void LetCrashesBeSignals() {
  static const bool once = [] {
    for (const char* name : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
      const char* old = getenv(name);  // NOLINT(concurrency-mt-unsafe)
      const std::string value =
          std::string(old != nullptr ? old : "") + ":handle_segv=0";
      setenv(name, value.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    }
    return true;
  }();
  (void)once;
}

HelperSettings TestSettings() {
  HelperSettings hs;
  hs.first_backoff = Clock::duration::zero();  // restart at once
  return hs;
}

// An isolated collector of the test plugin name, with its defaults or the
// option values set by edit.
std::unique_ptr<Collector> MakeIsolated(
    const std::string& name, const HelperSettings& hs = TestSettings(),
    const CollectorSettings& settings = {},
    void (*edit)(PluginOptions*) = nullptr) {
  LetCrashesBeSignals();
  auto helper = PluginHelper::Start(Path(name), name, hs);
  if (!helper.ok()) throw std::runtime_error(helper.error());
  PluginOptions options =
      PluginOptions::Defaults(helper.value()->info().schema);
  if (edit != nullptr) edit(&options);
  auto c =
      Collector::CreateIsolated(helper.take(), std::move(options), settings);
  if (!c.ok()) throw std::runtime_error(c.error());
  return c.take();
}

std::unique_ptr<Collector> MakeInProcess(const std::string& name,
                                         void (*edit)(PluginOptions*)) {
  auto plugin = LoadPlugin(Path(name));
  if (!plugin.ok()) throw std::runtime_error(plugin.error());
  PluginOptions options =
      PluginOptions::Defaults(plugin.value()->info().schema);
  if (edit != nullptr) edit(&options);
  auto c = Collector::Create(plugin.value(), std::move(options), {});
  if (!c.ok()) throw std::runtime_error(c.error());
  return c.take();
}

std::string Scrape(Exporter& e, ScrapeReport* report,
                   std::chrono::milliseconds budget = std::chrono::seconds(5)) {
  std::string out;
  ScrapeOptions options;
  options.deadline = Clock::now() + budget;
  e.Scrape(options, &out, report);
  return out;
}

// The exposition without the host's own families, which differ by design
// (restarts_total exists for isolated collectors only; timings).
std::string PluginPart(const std::string& out) {
  return out.substr(0, out.find("# HELP sysmetrics_collector_success"));
}

void Configure(PluginOptions* o) {
  o->FindMutable("answer")->i = 7;
  o->FindMutable("greeting")->s = "isolated \"quoted\"\n";
  o->FindMutable("items")->list = {"a", "b", "c"};
}

const CollectorReport& Report(const ScrapeReport& r, const std::string& name) {
  for (const CollectorReport& c : r.collectors) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no report for " + name);
}

// Where a collect's output goes: a MetricSet behind the emitter a plugin
// (or a replay) writes to.
struct Sink {
  explicit Sink(const std::string& name) {
    host.plugin_name = name;
    em.host = &host;
    em.set = &set;
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  MetricSet set;
  sm_host host;
  sm_emitter em;
};

// The head of a result frame, as a helper writes it (EncodeResult).
void ResultHead(wire::Writer& w, bool ok, const std::string& error,
                std::uint64_t skipped, std::uint64_t refused) {
  w.Clear();
  w.U8(ok ? 1 : 0);
  w.Str(error);
  w.F64(0);  // seconds
  w.U64(skipped);
  w.U64(refused);
}

TEST_CASE("an isolated plugin serves exactly what it serves in process") {
  std::vector<std::unique_ptr<Collector>> in, iso;
  in.push_back(MakeInProcess("c_plugin", &Configure));
  iso.push_back(MakeIsolated("c_plugin", TestSettings(), {}, &Configure));
  CHECK(iso[0]->isolated());
  CHECK_FALSE(in[0]->isolated());
  CHECK(iso[0]->info().name == "c_plugin");
  CHECK(iso[0]->info().file == Path("c_plugin"));
  CHECK(iso[0]->info().schema.size() == in[0]->info().schema.size());
  Exporter a(std::move(in));
  Exporter b(std::move(iso));
  for (int i = 0; i < 3; ++i) {  // state kept across collects, in the helper
    ScrapeReport ra, rb;
    const std::string outa = Scrape(a, &ra);
    const std::string outb = Scrape(b, &rb);
    REQUIRE(rb.collectors[0].success);
    CHECK(PluginPart(outb) == PluginPart(outa));
    CHECK(Contains(outb, "isolated \\\"quoted\\\"\\n"));
    CHECK(Contains(outb,
                   "sysmetrics_collector_restarts_total{collector=\"c_plugin\"}"
                   " 0\n"));
  }
}

TEST_CASE("a crash in an isolated collect costs that collector only") {
  LogCapture log;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeIsolated("crashes"));
  cs.push_back(MakeIsolated("c_plugin"));
  Collector* crashes = cs[0].get();
  Exporter e(std::move(cs));
  for (int i = 1; i <= 3; ++i) {
    ScrapeReport report;
    const std::string out = Scrape(e, &report);
    const CollectorReport& r = Report(report, "crashes");
    CHECK_FALSE(r.success);
    CHECK(Contains(r.error,
                   "the helper process was killed by signal 11 "
                   "(SIGSEGV) in collect()"));
    CHECK(Report(report, "c_plugin").success);
    CHECK(Contains(out, "sysmetrics_c_plugin_answer{greeting=\"hello\"} 42\n"));
    // The first scrape used the helper started with it; each later one
    // started a new one (no back-off in these tests).
    CHECK(crashes->restarts() == static_cast<std::uint64_t>(i - 1));
  }
  CHECK(log.Has("plugin helper failed collector=crashes"));
}

TEST_CASE("an abort in an isolated collect is named with its signal") {
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeIsolated("aborts"));
  Exporter e(std::move(cs));
  ScrapeReport report;
  Scrape(e, &report);
  CHECK_FALSE(report.collectors[0].success);
  CHECK(Contains(report.collectors[0].error, "signal 6 (SIGABRT)"));
}

// Waits (bounded) until log holds n lines containing text.
bool WaitForLines(const LogCapture& log, const std::string& text,
                  std::size_t n) {
  for (int i = 0; i < 1000; ++i) {
    if (testing::LinesWith(log.text(), text).size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Waits (bounded) until c has no run in flight.
bool WaitUntilIdle(const Collector& c) {
  for (int i = 0; i < 6000 && c.running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return !c.running();
}

TEST_CASE("an isolated collect past its deadline is killed, not waited for") {
  LogCapture log;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeIsolated("slow"));  // sleeps 3 s
  Collector* slow = cs[0].get();
  Exporter e(std::move(cs));
  const std::string killed =
      "collect() did not return by its deadline; the helper process was "
      "killed";
  // Budgets of 1 s against a 3 s sleep: the second scrape's also pays for
  // starting a new helper, which a busy machine under a sanitizer can make
  // take longer than 200 ms ("no time left", nothing killed).
  ScrapeReport report;
  Scrape(e, &report, std::chrono::seconds(1));
  CHECK_FALSE(report.collectors[0].success);
  // The run ends when the helper is killed, at the deadline, not when the
  // plugin would have returned: the next scrape starts a new helper. The
  // line is logged just before the run is marked done: wait for both.
  REQUIRE(WaitForLines(log, killed, 1));
  REQUIRE(WaitUntilIdle(*slow));
  ScrapeReport again;
  Scrape(e, &again, std::chrono::seconds(1));
  CHECK_FALSE(again.collectors[0].success);
  REQUIRE(WaitForLines(log, killed, 2));
  CHECK(slow->restarts() == 1);
  CHECK(log.Has("plugin helper failed collector=slow"));
}

TEST_CASE("a leaking isolated plugin is restarted at its memory limit") {
  LogCapture log;
  HelperSettings hs = TestSettings();
  hs.memory_limit_bytes = std::size_t{64} << 20;
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(MakeIsolated("leaks", hs));  // 16 MiB per collect
  Collector* leaks = cs[0].get();
  Exporter e(std::move(cs));
  for (int i = 0; i < 12 && leaks->restarts() < 2; ++i) {
    ScrapeReport report;
    Scrape(e, &report);
    CHECK(report.collectors[0].success);  // the limit costs no scrape
  }
  CHECK(leaks->restarts() >= 2);
  CHECK(log.Has("plugin helper uses more memory than its limit"));
}

TEST_CASE("an isolated plugin that cannot load says why, as in process") {
  for (const char* name : {"wrong_abi", "no_entry", "name_mismatch"}) {
    CAPTURE(name);
    auto helper = PluginHelper::Start(Path(name), name, TestSettings());
    REQUIRE_FALSE(helper.ok());
    auto in_process = LoadPlugin(Path(name));
    REQUIRE_FALSE(in_process.ok());
    CHECK(helper.error() == in_process.error());
  }
  auto missing =
      PluginHelper::Start(kDir + "/nosuch.so", "nosuch", TestSettings());
  REQUIRE_FALSE(missing.ok());
  CHECK(Contains(missing.error(), "cannot load"));
}

TEST_CASE("an isolated create that fails is refused with its reason") {
  auto helper =
      PluginHelper::Start(Path("create_fails"), "create_fails", TestSettings());
  REQUIRE(helper.ok());
  sm_status status = SM_OK;
  auto c = Collector::CreateIsolated(helper.take(), PluginOptions::Defaults({}),
                                     {}, &status);
  REQUIRE_FALSE(c.ok());
  CHECK(status != SM_OK);
  CHECK(Contains(c.error(), "create failed"));
}

TEST_CASE("a helper that speaks garbage is refused and killed") {
  TempDir dir;
  const std::string script = dir.File("garbage.sh");
  {
    std::ofstream f(script);
    // A header announcing a frame far over the limit, then nothing.
    f << "#!/bin/sh\nprintf '\\377\\377\\377\\377\\001'\nsleep 30\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  HelperSettings hs = TestSettings();
  hs.command = script;
  auto helper = PluginHelper::Start(Path("c_plugin"), "c_plugin", hs);
  REQUIRE_FALSE(helper.ok());
  CHECK(Contains(helper.error(), "while loading the plugin"));

  // One that exits at once.
  hs.command = "/bin/true";
  helper = PluginHelper::Start(Path("c_plugin"), "c_plugin", hs);
  REQUIRE_FALSE(helper.ok());
  CHECK(Contains(helper.error(), "exited with status 0"));
}

TEST_CASE("a collect with no time left fails without killing the helper") {
  auto helper =
      PluginHelper::Start(Path("c_plugin"), "c_plugin", TestSettings());
  REQUIRE(helper.ok());
  sm_status status = SM_ERR;
  REQUIRE(helper.value()
              ->Create(HelperInstance{PluginOptions::Defaults(
                                          helper.value()->info().schema),
                                      "/proc", "/sys", 0},
                       &status)
              .ok());
  const pid_t pid = helper.value()->pid();
  REQUIRE(pid > 0);
  Sink sink("c_plugin");
  sm_emitter& em = sink.em;
  std::string error;
  CHECK(helper.value()->Collect(&em, Clock::now(), &error) == SM_ERR);
  CHECK(error == "no time left before the deadline to collect");
  CHECK(helper.value()->pid() == pid);
  CHECK(helper.value()->restarts() == 0);
  error.clear();
  CHECK(helper.value()->Collect(&em, Clock::now() + std::chrono::seconds(5),
                                &error) == SM_OK);
  CHECK(helper.value()->pid() == pid);
}

TEST_CASE("a restart that finds another plugin in the file fails, named") {
  LogCapture log;
  TempDir dir;
  const std::string file = dir.File("crashes.so");
  std::filesystem::copy_file(Path("crashes"), file);
  LetCrashesBeSignals();
  auto helper = PluginHelper::Start(file, "crashes", TestSettings());
  REQUIRE(helper.ok());
  auto c =
      Collector::CreateIsolated(helper.take(), PluginOptions::Defaults({}), {});
  REQUIRE(c.ok());
  Collector* crashes = c.value().get();
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(c.take());
  Exporter e(std::move(cs));
  ScrapeReport first;
  Scrape(e, &first);
  CHECK(Contains(first.collectors[0].error, "SIGSEGV"));
  // Another plugin now under that name: the restart refuses it, and the
  // collector keeps the info it started with.
  std::filesystem::remove(file);
  std::filesystem::copy_file(Path("c_plugin"), file);
  ScrapeReport second;
  Scrape(e, &second);
  CHECK_FALSE(second.collectors[0].success);
  CHECK(Contains(second.collectors[0].error, "restart failed"));
  CHECK(Contains(second.collectors[0].error, "does not match the file name"));
  CHECK(crashes->info().name == "crashes");
  CHECK(crashes->restarts() == 1);
}

TEST_CASE("a malformed result is refused before anything is served") {
  Sink sink("x");
  sm_emitter& em = sink.em;
  wire::Writer w;
  ResultHead(w, true, "", 0, 0);
  w.U32(1000);  // families: more than the bytes left could hold
  Result<CollectVerdict> replayed = ReplayResult(w.buffer(), &em);
  REQUIRE_FALSE(replayed.ok());
  CHECK(replayed.error() == "cut short or malformed");
  CHECK(sink.set.families().empty());

  ResultHead(w, true, "", 3, 0);
  w.U32(1);
  w.Str("sysmetrics_x_value");
  w.Str("help");
  w.Str("");
  w.U8(99);  // no such type
  w.U32(0);
  replayed = ReplayResult(w.buffer(), &em);
  REQUIRE_FALSE(replayed.ok());
  CHECK(replayed.error() == "metric type 99 does not exist");
  CHECK(sink.set.families().empty());

  // Too many labels in one sample; and counts from a result cut short are
  // not counted.
  ResultHead(w, true, "", 7, 7);
  w.U32(1);
  w.Str("sysmetrics_x_value");
  w.Str("help");
  w.Str("");
  w.U8(1);
  w.U32(1);
  w.Str("");
  w.U32(2000);
  for (int i = 0; i < 2000; ++i) {
    w.Str("l" + std::to_string(i));
    w.Str("v");
  }
  w.F64(1);
  em.skipped = 0;
  em.refused_families = 0;
  replayed = ReplayResult(w.buffer(), &em);
  REQUIRE_FALSE(replayed.ok());
  CHECK(replayed.error() == "a sample with 2000 labels, over 1024");
  CHECK(em.skipped == 0);
  CHECK(em.refused_families == 0);

  ResultHead(w, false, "/proc/x: gone", 2, 5);
  replayed = ReplayResult(w.buffer(), &em);
  REQUIRE(replayed.ok());
  CHECK_FALSE(replayed.value().plugin.ok());
  CHECK(replayed.value().plugin.message() == "/proc/x: gone");
  CHECK(em.skipped == 2);
  CHECK(em.refused_families == 5);
}

}  // namespace
}  // namespace sysmetrics
