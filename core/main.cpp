// sysmetrics: entry point. Parses flags, loads the collectors, serves HTTP
// and handles signals on the main thread.
#include <pthread.h>
#include <signal.h>

#include <sysmetrics/plugin.h>

#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>

#include "app.hpp"
#include "cli.hpp"
#include "http_server.hpp"
#include "log.hpp"

namespace sysmetrics {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;
constexpr std::chrono::seconds kDrain{10};

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

int Main(int argc, char** argv) {
  // Block the signals before any thread exists, so every thread inherits the
  // mask and only the main thread receives them through sigwait. (Poco 1.11
  // can otherwise deliver SIGTERM to a worker and die uncleanly.)
  const sigset_t signals = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto parsed = ParseCommandLine(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "sysmetrics: " << parsed.error() << "\n";
    return kExitUsage;
  }
  const CommandLine& cl = parsed.value();
  if (cl.help) {
    std::cout << HelpText("sysmetrics");
    return 0;
  }
  if (cl.version) {
    std::cout << "sysmetrics " << CurrentBuildInfo().version
              << " (plugin ABI " << SM_ABI_VERSION_MAJOR << "."
              << SM_ABI_VERSION_MINOR << ")\n";
    return 0;
  }
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
  if (cl.log_format && !ParseLogFormat(*cl.log_format, &format)) {
    std::cerr << "sysmetrics: --log-format must be text or json, not '"
              << *cl.log_format << "'\n";
    return kExitUsage;
  }
  if (cl.log_level && !ParseLogLevel(*cl.log_level, &level)) {
    std::cerr << "sysmetrics: --log-level must be debug, info, warn, error "
                 "or off, not '"
              << *cl.log_level << "'\n";
    return kExitUsage;
  }
  InitLogging(format, level);

  Settings settings;
  if (cl.listen) settings.listen = *cl.listen;
  if (cl.plugin_dir) settings.plugin_dir = *cl.plugin_dir;
  if (cl.procfs) settings.procfs = *cl.procfs;
  if (cl.sysfs) settings.sysfs = *cl.sysfs;
  for (const auto& [name, on] : cl.collectors) settings.enabled[name] = on;

  Log(LogLevel::kInfo, "starting",
      {{"version", CurrentBuildInfo().version},
       {"plugin_dir", settings.plugin_dir.empty() ? DefaultPluginDir()
                                                  : settings.plugin_dir},
       {"procfs", settings.procfs}});
  auto exporter = BuildExporter(settings);
  if (!exporter.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", exporter.error()}});
    return kExitUsage;
  }
  if (cl.check_config) {
    Log(LogLevel::kInfo, "configuration is valid");
    return 0;
  }
  ExporterHolder holder;
  holder.Set(exporter.take());

  ServerOptions server_options;
  server_options.listen = settings.listen;
  HttpServer server(server_options, &holder);
  auto bound = server.Start();
  if (!bound.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", bound.error()}});
    return kExitRuntime;
  }
  Log(LogLevel::kInfo, "listening", {{"address", bound.value()}});

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      Log(LogLevel::kWarn, "SIGHUP ignored: reload is not implemented yet");
      continue;
    }
    Log(LogLevel::kInfo, "shutdown began",
        {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  // Drain on another thread so that a second signal can cut it short.
  auto drained = std::async(std::launch::async,
                            [&server] { return server.Shutdown(kDrain); });
  for (;;) {
    if (drained.wait_for(std::chrono::milliseconds(0)) ==
        std::future_status::ready) {
      break;
    }
    timespec tick{0, 20 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      Log(LogLevel::kWarn, "second signal during shutdown: exiting now");
      std::fflush(nullptr);
      std::_Exit(kExitRuntime);
    }
  }
  if (!drained.get()) {
    Log(LogLevel::kWarn, "requests still running after the drain bound");
  }
  holder.Set(nullptr);  // destroys the collectors and unloads the plugins
  Log(LogLevel::kInfo, "shutdown complete");
  return 0;
}

}  // namespace
}  // namespace sysmetrics

int main(int argc, char** argv) { return sysmetrics::Main(argc, argv); }
