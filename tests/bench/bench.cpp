// Benchmarks of the scrape path: each /proc parser, the serializer, gzip,
// and one whole collection through the real plugins, on a small machine and
// on a large one (128 CPUs, 1,000 disks, 1,000 interfaces). They measure;
// they assert nothing. Run: build/tests/bench/sysmetrics_bench
// The "per_series" counters give the time per exported series, the figure
// that must stay flat as machines grow.
#include <Poco/AutoPtr.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SocketAddress.h>
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "diskstats.hpp"
#include "fixtures.hpp"
#include "http/gzip.hpp"
#include "http/http_exchange.hpp"
#include "http/http_handlers.hpp"
#include "http/http_request.hpp"
#include "kernel_stat.hpp"
#include "loadavg.hpp"
#include "meminfo.hpp"
#include "mountinfo.hpp"
#include "name_filter.hpp"
#include "net_dev.hpp"
#include "plugin/plugin_loader.hpp"
#include "proc_file.hpp"
#include "proc_stat.hpp"
#include "psi.hpp"
#include "scrape/collector.hpp"
#include "scrape/exporter.hpp"
#include "scrape/metric_set.hpp"
#include "scrape/plugin_helper.hpp"
#include "scrape/text_format.hpp"
#include "util/log.hpp"
#include "vmstat.hpp"

// Google Benchmark's loop idiom, `for (auto _ : state)`, never reads `_`.
// NOLINTBEGIN(clang-analyzer-deadcode.DeadStores)
namespace sysmetrics::bench {
namespace {

void BM_ParseProcStat(benchmark::State& state) {
  const std::string text = ProcStat(static_cast<int>(state.range(0)));
  cpu::ProcStat out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cpu::ParseProcStat(text, "stat", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseProcStat)->Arg(2)->Arg(128);

void BM_ParseMemInfo(benchmark::State& state) {
  const std::string text = MemInfo();
  memory::MemInfo out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(memory::ParseMemInfo(text, "m", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseMemInfo);

void BM_ParseDiskStats(benchmark::State& state) {
  const std::string text = DiskStats(static_cast<int>(state.range(0)));
  disk::DiskStats out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(disk::ParseDiskStats(text, "d", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseDiskStats)->Arg(4)->Arg(1000);

void BM_ParseNetDev(benchmark::State& state) {
  const std::string text = NetDev(static_cast<int>(state.range(0)));
  network::NetDev out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(network::ParseNetDev(text, "n", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseNetDev)->Arg(4)->Arg(1000);

void BM_ParseLoadAvg(benchmark::State& state) {
  const std::string text = LoadAvg();
  loadavg::LoadAvg out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(loadavg::ParseLoadAvg(text, "l", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseLoadAvg);

void BM_ParsePsi(benchmark::State& state) {
  const std::string text = Psi();
  pressure::Psi out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(pressure::ParsePsi(text, "p", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParsePsi);

// The argument is the intr line's count of interrupt numbers: only its
// first number is parsed, so time should grow only with the newline scan.
void BM_ParseKernelStat(benchmark::State& state) {
  const std::string text = KernelStat(static_cast<int>(state.range(0)));
  stat::KernelStat out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(stat::ParseKernelStat(text, "s", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseKernelStat)->Arg(64)->Arg(4000);

void BM_ParseVmStat(benchmark::State& state) {
  const std::string text = VmStat();
  vmstat::VmStat out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(vmstat::ParseVmStat(text, "v", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseVmStat);

// vmstat's per-scrape selection after the first: a cached verdict per
// field name, no regex.
void BM_VmStatSelect(benchmark::State& state) {
  const std::string text = VmStat();
  vmstat::VmStat parsed;
  std::string error;
  vmstat::ParseVmStat(text, "v", &parsed, &error);
  const Host host(nullptr, &HostApi());  // the host's regex engine
  plugin::NameFilter fields(host, "^(oom_kill|pgpg|pswp|pg.*fault).*",
                            plugin::NameFilter::Mode::kKeepMatching);
  for (auto _ : state) {
    fields.BeginCollect();
    int kept = 0;
    for (const vmstat::VmStatField& f : parsed.fields) {
      kept += fields.Include(f.name) != nullptr ? 1 : 0;
    }
    benchmark::DoNotOptimize(kept);
  }
}
BENCHMARK(BM_VmStatSelect);

void BM_ParseMountInfo(benchmark::State& state) {
  const std::string text = MountInfo(static_cast<int>(state.range(0)));
  filesystem::MountInfo out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        filesystem::ParseMountInfo(text, "m", &out, &error));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_ParseMountInfo)->Arg(100)->Arg(2000);

// The floor of a scrape's collection work: open, read and parse the four
// real /proc files, nothing else (no emission, no serialization).
void BM_ReadParseFloor(benchmark::State& state) {
  std::string buf;
  std::string error;
  cpu::ProcStat stat;
  memory::MemInfo mem;
  disk::DiskStats disks;
  network::NetDev net;
  for (auto _ : state) {
    bool ok = plugin::ReadFileInto("/proc/stat", &buf, &error) &&
              cpu::ParseProcStat(buf, "stat", &stat, &error);
    ok = ok && plugin::ReadFileInto("/proc/meminfo", &buf, &error) &&
         memory::ParseMemInfo(buf, "meminfo", &mem, &error);
    ok = ok && plugin::ReadFileInto("/proc/diskstats", &buf, &error) &&
         disk::ParseDiskStats(buf, "diskstats", &disks, &error);
    ok = ok && plugin::ReadFileInto("/proc/net/dev", &buf, &error) &&
         network::ParseNetDev(buf, "net/dev", &net, &error);
    if (!ok) {
      state.SkipWithError(error.c_str());
      return;
    }
  }
}
BENCHMARK(BM_ReadParseFloor)->Unit(benchmark::kMicrosecond);

MetricSet MakeSet(int series) {
  MetricSet set;
  set.BeginFamily("sysmetrics_disk_read_bytes_total", "Bytes read.",
                  MetricType::kCounter, "bytes");
  for (int i = 0; i < series; ++i) {
    const std::string device = "nvme" + std::to_string(i) + "n1";
    const LabelView l[] = {{"device", device}};
    set.AddSample({}, l, 123456789.0 * i);
  }
  set.Finish();
  return set;
}

void BM_FillMetricSet(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<std::string> devices;
  devices.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) devices.push_back("nvme" + std::to_string(i));
  MetricSet set;
  for (auto _ : state) {
    set.Clear();
    set.BeginFamily("sysmetrics_disk_read_bytes_total", "Bytes read.",
                    MetricType::kCounter, "bytes");
    for (int i = 0; i < n; ++i) {
      const LabelView l[] = {{"device", devices[i]}};
      set.AddSample({}, l, 1.5 * i);
    }
    set.Finish();
  }
  state.counters["per_series"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * n,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FillMetricSet)->Arg(16)->Arg(1000);

void BM_SerializeText(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const MetricSet set = MakeSet(n);
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendSetText(out, set);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * out.size());
  state.counters["per_series"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * n,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SerializeText)->Arg(16)->Arg(1000);

void BM_Gzip(benchmark::State& state) {
  std::string body;
  AppendSetText(body, MakeSet(static_cast<int>(state.range(0))));
  std::string out;
  for (auto _ : state) {
    (void)GzipCompress(body, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * body.size());
  state.SetLabel(std::to_string(body.size()) + " -> " +
                 std::to_string(out.size()) + " bytes");
}
BENCHMARK(BM_Gzip)->Arg(100)->Arg(1000);

// One whole collection through the four real plugins, as a scrape does it
// (without HTTP): read, parse, emit, merge, serialize.
void BM_Collection(benchmark::State& state) {
  const bool large = state.range(0) != 0;
  const bool run_inline = state.range(1) != 0;
  // Each plugin in a helper process (plugin_helper.hpp), as a third-party
  // plugin runs by default: the cost of isolation per scrape.
  const bool isolated = state.range(2) != 0;
  const std::string root =
      std::filesystem::temp_directory_path() /
      ("sysmetrics-bench-" + std::to_string(getpid()) + (large ? "-l" : "-s"));
  if (large) {
    WriteProcfs(root, 128, 1000, 1000);
  } else {
    WriteProcfs(root, 2, 4, 4);
  }
  CollectorSettings settings;
  settings.procfs_root = root;
  // The daemon's default (inline_nonblocking): these plugins then run on
  // the scraping thread.
  settings.run_inline = run_inline;
  std::vector<std::unique_ptr<Collector>> collectors;
  for (const char* name : {"cpu", "disk", "memory", "network"}) {
    const std::string file =
        std::string(SYSMETRICS_PLUGIN_BUILD_DIR "/") + name + ".so";
    if (isolated) {
      auto helper = PluginHelper::Start(file, name, HelperSettings{});
      if (!helper.ok()) {
        state.SkipWithError(helper.error().c_str());
        return;
      }
      auto options = PluginOptions::Defaults(helper.value()->info().schema);
      auto c = Collector::CreateIsolated(helper.take(), std::move(options),
                                         settings);
      if (!c.ok()) {
        state.SkipWithError(c.error().c_str());
        return;
      }
      collectors.push_back(c.take());
      continue;
    }
    auto plugin = LoadPlugin(file);
    if (!plugin.ok()) {
      state.SkipWithError(plugin.error().c_str());
      return;
    }
    auto c = Collector::Create(
        plugin.value(), PluginOptions::Defaults(plugin.value()->info().schema),
        settings);
    if (!c.ok()) {
      state.SkipWithError(c.error().c_str());
      return;
    }
    collectors.push_back(c.take());
  }
  Exporter exporter(std::move(collectors));
  std::string out;
  ScrapeReport report;
  std::size_t series = 0;
  for (auto _ : state) {
    out.clear();
    ScrapeOptions options;
    options.deadline = Clock::now() + std::chrono::seconds(10);
    exporter.Scrape(options, &out, &report);
    benchmark::DoNotOptimize(out.data());
  }
  for (std::size_t pos = 0; (pos = out.find('\n', pos)) != std::string::npos;
       ++pos) {
    if (pos + 1 < out.size() && out[pos + 1] != '#') ++series;
  }
  state.SetLabel(std::to_string(series) + " series, " +
                 std::to_string(out.size()) + " bytes");
  state.counters["per_series"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(series),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  std::filesystem::remove_all(root);
}
BENCHMARK(BM_Collection)
    ->ArgNames({"large", "inline", "isolated"})
    ->Args({0, 0, 0})
    ->Args({1, 0, 0})
    ->Args({0, 1, 0})
    ->Args({1, 1, 0})
    ->Args({0, 0, 1})
    ->Args({1, 0, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Times whole scrapes of one built-in plugin alone, loaded from the build
// tree with its default options changed by set (may be empty), and returns
// the last scrape's body; an empty body if the plugin could not be loaded
// or created (the benchmark is then marked skipped with the reason).
std::string ScrapeOnePlugin(
    benchmark::State& state, const char* file,
    const CollectorSettings& settings,
    const std::function<void(PluginOptions*)>& set = nullptr) {
  auto plugin = LoadPlugin(std::string(SYSMETRICS_PLUGIN_BUILD_DIR "/") + file);
  if (!plugin.ok()) {
    state.SkipWithError(plugin.error().c_str());
    return {};
  }
  auto options = PluginOptions::Defaults(plugin.value()->info().schema);
  if (set) set(&options);
  auto c = Collector::Create(plugin.value(), std::move(options), settings);
  if (!c.ok()) {
    state.SkipWithError(c.error().c_str());
    return {};
  }
  std::vector<std::unique_ptr<Collector>> collectors;
  collectors.push_back(c.take());
  Exporter exporter(std::move(collectors));
  std::string out;
  ScrapeReport report;
  for (auto _ : state) {
    out.clear();
    ScrapeOptions scrape;
    scrape.deadline = Clock::now() + std::chrono::seconds(10);
    exporter.Scrape(scrape, &out, &report);
    benchmark::DoNotOptimize(out.data());
  }
  return out;
}

// A fresh directory for one benchmark's fixture tree.
std::string BenchRoot(const char* what) {
  return std::filesystem::temp_directory_path() /
         ("sysmetrics-bench-" + std::string(what) + "-" +
          std::to_string(getpid()));
}

// cpu.so alone on 128 CPUs with a sysfs that has thermal_throttle for each:
// the cost of the per-CPU sysfs reads (thermal_throttle on) against /proc
// only (off), per scrape.
void BM_CpuCollection(benchmark::State& state) {
  const bool throttle = state.range(0) != 0;
  const std::string root = BenchRoot("cpu");
  WriteProcfs(root + "/proc", 128, 1, 1);
  WriteSysfs(root + "/sys", 128);
  CollectorSettings settings;
  settings.procfs_root = root + "/proc";
  settings.sysfs_root = root + "/sys";
  settings.run_inline = true;
  const std::string out =
      ScrapeOnePlugin(state, "cpu.so", settings, [&](PluginOptions* o) {
        o->FindMutable("thermal_throttle")->b = throttle;
      });
  const bool has_throttles =
      out.find("sysmetrics_cpu_core_throttles_total{") != std::string::npos;
  state.SetLabel(std::string(has_throttles ? "with" : "without") +
                 " throttle series, " + std::to_string(out.size()) + " bytes");
  std::filesystem::remove_all(root);
}
BENCHMARK(BM_CpuCollection)
    ->ArgName("thermal_throttle")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The disk collection alone on 1,000 devices, by how udev's database is
// set: 0 not read (udev_data_path ""), 1 a directory without the devices'
// files, 2 a file for every device, unchanged between scrapes (the usual
// case: one stat per device), 3 no directory (a container without
// /run/udev: one stat per scrape).
void BM_DiskCollection(benchmark::State& state) {
  const int udev = static_cast<int>(state.range(0));
  constexpr int kDisks = 1000;
  const std::string root = BenchRoot("disk");
  WriteProcfs(root, 1, kDisks, 1);
  if (udev == 1) std::filesystem::create_directories(root + "/udev");
  if (udev == 2) WriteUdevData(root + "/udev", kDisks);
  CollectorSettings settings;
  settings.procfs_root = root;
  settings.sysfs_root = root + "/sys";
  settings.run_inline = true;
  const std::string out =
      ScrapeOnePlugin(state, "disk.so", settings, [&](PluginOptions* o) {
        o->FindMutable("udev_data_path")->s = udev == 0 ? "" : root + "/udev";
      });
  state.SetLabel(std::to_string(out.size()) + " bytes");
  std::filesystem::remove_all(root);
}
BENCHMARK(BM_DiskCollection)
    ->ArgName("udev")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// netclass.so alone on 4 and 1,000 interfaces (22 attributes each): the
// cost of its directory and file reads per scrape.
void BM_NetClassCollection(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::string root = BenchRoot("netclass");
  WriteSysfsNet(root, n);
  CollectorSettings settings;
  settings.sysfs_root = root;
  settings.run_inline = true;
  const std::string out = ScrapeOnePlugin(state, "netclass.so", settings);
  state.SetLabel(std::to_string(out.size()) + " bytes");
  state.counters["per_interface"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * n,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  std::filesystem::remove_all(root);
}
BENCHMARK(BM_NetClassCollection)
    ->Arg(4)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// One request through the HTTP edge without a socket, as the server runs
// it: Poco reads the head a Prometheus scrape sends (GatedRequest), the
// router picks a handler, which answers through BufferedResponse into the
// wire buffer. The per-request cost the edge adds to every scrape: for
// /health, and for /metrics of an exporter without collectors (only the
// host's own families, so the scrape itself costs little).
void BM_Exchange(benchmark::State& state) {
  const bool metrics = state.range(0) != 0;
  const std::string text =
      std::string("GET ") + (metrics ? "/metrics" : "/health") +
      " HTTP/1.1\r\nHost: 127.0.0.1:9101\r\n"
      "User-Agent: Prometheus/2.48.0\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,application/"
      "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
      "*/*;q=0.1\r\nAccept-Encoding: identity\r\n"
      "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n";
  HttpRequestHead head;
  const ParseOutcome parsed = ParseRequestHead(text, &head);
  if (parsed.status != ParseStatus::kComplete) {
    state.SkipWithError("the gate refused the request");
    return;
  }
  const std::string_view gated =
      std::string_view(text).substr(0, parsed.consumed);
  const Poco::Net::SocketAddress address("127.0.0.1", 9101);
  const std::string peer = "127.0.0.1:40000";
  const Poco::Net::HTTPServerParams::Ptr params =
      Poco::makeAuto<Poco::Net::HTTPServerParams>();
  ExporterHolder exporter;
  exporter.Set(
      std::make_shared<Exporter>(std::vector<std::unique_ptr<Collector>>{}));
  Router router(RouteOptions{}, &exporter);
  std::string wire;
  std::size_t bytes_out = 0;
  for (auto _ : state) {
    wire.clear();
    GatedRequest request(address, peer, address, *params, false);
    if (!request.Read(gated).ok()) {
      state.SkipWithError("Poco refused the request");
      return;
    }
    BufferedResponse response(&wire, true, request.head_only());
    request.set_response(&response);
    router.Route(request)->handleRequest(request, response);
    request.set_response(nullptr);
    benchmark::DoNotOptimize(wire.data());
    bytes_out = wire.size() + response.borrowed_body().size();
  }
  state.SetLabel(std::to_string(bytes_out) + " bytes out");
}
BENCHMARK(BM_Exchange)->ArgName("metrics")->Arg(0)->Arg(1);

}  // namespace
}  // namespace sysmetrics::bench
// NOLINTEND(clang-analyzer-deadcode.DeadStores)

int main(int argc, char** argv) {
  // The helper process of the isolated collections is this binary.
  if (argc > 1 && std::string_view(argv[1]) == sysmetrics::kPluginHostFlag) {
    return sysmetrics::RunPluginHost(argc, argv);
  }
  sysmetrics::InitLogging(sysmetrics::LogFormat::kText,
                          sysmetrics::LogLevel::kError);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
