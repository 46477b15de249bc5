// sysmetrics: entry point. Parses flags, loads the collectors, serves HTTP
// and handles signals on the main thread.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sysmetrics/plugin.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/app.hpp"
#include "config/cli.hpp"
#include "config/config.hpp"
#include "http/basic_auth.hpp"
#include "http/http_server.hpp"
#include "plugin/fatal_signal.hpp"
#include "plugin/quarantine.hpp"
#include "scrape/node_names.hpp"
#include "scrape/plugin_helper.hpp"
#include "util/log.hpp"

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

// The server's TLS context and users from [web]. Certificate problems are
// configuration errors: they name where [web.tls] is set.
Result<std::shared_ptr<const WebSecurity>> BuildWeb(const Config& cfg) {
  auto web = std::make_shared<WebSecurity>();
  if (cfg.web.tls()) {
    TlsSettings tls;
    tls.cert_file = cfg.web.tls_cert_file;
    tls.key_file = cfg.web.tls_key_file;
    tls.client_ca_file = cfg.web.tls_client_ca_file;
    tls.tls13_only = cfg.web.tls_min_version == "TLS13";
    tls.check_module_permissions = cfg.check_plugin_permissions;
    auto context = TlsContext::Create(tls);
    if (!context.ok()) {
      return Status::Error(cfg.web.tls_origin.ToString() +
                           ": [web.tls]: " + context.error());
    }
    web->tls = context.take();
  }
  if (!cfg.web.basic_auth_users.empty()) {
    web->auth = std::make_shared<BasicAuth>(cfg.web.basic_auth_users);
    if (!cfg.web.tls()) {
      Log(LogLevel::kWarn,
          "basic authentication without TLS: passwords cross the network "
          "in clear text; set [web.tls]");
    }
  }
  web->health_without_auth = cfg.web.health_without_auth;
  return std::shared_ptr<const WebSecurity>(std::move(web));
}

// Prints a bcrypt hash of the password on standard input (one line, or
// all of it without the final newline).
int HashPasswordCommand() {
  std::string password;
  std::getline(std::cin, password);
  if (password.empty()) {
    std::cerr << "sysmetrics: --hash-password reads the password from "
                 "standard input; got nothing\n";
    return kExitUsage;
  }
  const std::string hash = HashPassword(password);
  if (hash.empty()) {
    std::cerr << "sysmetrics: cannot hash the password (crypt failed)\n";
    return kExitRuntime;
  }
  std::cout << hash << "\n";
  return 0;
}

// --check-config, once the configuration is valid: what a start would
// report for each enabled collector. 0 when every one would run, else 1,
// naming the ones a start would report failed.
int ReportCheck(const Exporter& exporter) {
  std::vector<std::string> names;
  for (const auto& c : exporter.collectors()) names.push_back(c->name());
  for (const RefusedCollector& r : exporter.refused()) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  std::cout << "configuration OK: " << names.size() << " collector(s) enabled";
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::cout << (i == 0 ? ": " : ", ") << names[i];
  }
  std::cout << "\n";
  if (PrintCollectorVerdicts(exporter, std::cout) == 0) return 0;
  std::string failed;
  for (const RefusedCollector& r : exporter.refused()) {
    failed += (failed.empty() ? "" : ", ") + r.name;
  }
  std::cerr << "sysmetrics: " << exporter.refused().size()
            << " enabled collector(s) would be reported failed "
               "(sysmetrics_collector_success 0): "
            << failed << "\n";
  return kExitRuntime;
}

// SIGHUP: read the configuration again and swap in a new set of collectors.
// Scrapes in flight finish with the old set; a configuration with errors is
// logged and the running one kept. The listen address cannot change.
void Reload(const CommandLine& cl, const Config& running, bool record_crashes,
            ExporterHolder* holder, HttpServer* server) {
  Log(LogLevel::kInfo, "reload requested (SIGHUP)");
  auto config = LoadConfig(cl);
  if (!config.ok()) {
    Log(LogLevel::kError, "reload failed; keeping the running configuration",
        {{"error", config.error()}});
    return;
  }
  Config& next = config.value();
  if (next.listen != running.listen ||
      next.metrics_path != running.metrics_path ||
      next.max_requests != running.max_requests ||
      next.max_connections != running.max_connections ||
      next.timeout_margin_seconds != running.timeout_margin_seconds ||
      next.default_timeout_seconds != running.default_timeout_seconds ||
      next.log_format != running.log_format ||
      next.state_dir != running.state_dir) {
    Log(LogLevel::kWarn,
        "changes to server.listen, server.metrics_path, server.max_requests, "
        "server.max_connections, "
        "scrape.timeout_margin_seconds, scrape.default_timeout_seconds, "
        "log.format and plugins.state_dir need a restart; keeping the "
        "running ones");
  }
  // Crash records were prepared for the running state directory.
  next.state_dir = running.state_dir;
  auto web = BuildWeb(config.value());
  if (!web.ok()) {
    Log(LogLevel::kError, "reload failed; keeping the running configuration",
        {{"error", web.error()}});
    return;
  }
  SetLogLevel(config.value().log_level);
  auto exporter = BuildExporter(config.value(), record_crashes);
  if (!exporter.ok()) {
    Log(LogLevel::kError, "reload failed; keeping the running configuration",
        {{"error", exporter.error()}});
    return;
  }
  // New connections get the new certificate; every request the new users.
  server->SetWeb(web.take());
  std::string names;
  for (const auto& c : exporter.value()->collectors()) {
    names += (names.empty() ? "" : ",") + c->name();
  }
  holder->Set(exporter.take());
  Log(LogLevel::kInfo, "configuration reloaded", {{"collectors", names}});
}

// What the process needs before any thread exists: the handled signals
// blocked (every thread inherits the mask, and only the main thread takes
// them through sigwait; else the kernel may deliver SIGTERM to any thread,
// a plugin's included), malloc's arenas and mmap threshold, and the soft
// descriptor limit.
void PrepareProcess(const sigset_t& signals) {
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // glibc gives each thread that allocates its own arena (up to 8 per
  // core); the server's worker threads allocate little and briefly, so
  // their arenas are mostly idle resident memory. Two suffice here.
  mallopt(M_ARENA_MAX, 2);  // NOLINT(concurrency-mt-unsafe): no threads yet
  // A fixed threshold: blocks of 128 KiB and more are mapped, and unmapped
  // when freed. glibc's default raises the threshold to the largest block
  // freed so far, after which one large /proc file (or scrape) leaves its
  // memory resident in the heap for good. Steady scrapes allocate nothing
  // that large but gzip compressors (200 KiB), of which the ones beyond
  // one per CPU are given back when done (http/gzip.cpp).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // NOLINT(concurrency-mt-unsafe)
  // The server keeps up to 1,024 connections besides its own descriptors;
  // systemd's default soft limit is 1,024 (hard 524,288). Raise the soft
  // limit as Go programs do, so connections, not descriptors, are the bound.
  if (rlimit fds{}; getrlimit(RLIMIT_NOFILE, &fds) == 0 &&
                    fds.rlim_cur < fds.rlim_max && fds.rlim_cur < 4096) {
    fds.rlim_cur = std::min<rlim_t>(fds.rlim_max, 4096);
    setrlimit(RLIMIT_NOFILE, &fds);
  }
}

// The commands that print and exit without a configuration (--help,
// --hash-password, --node-name-table, --version): their exit status, or
// nothing when cl asks for none of them.
std::optional<int> RunCommand(const CommandLine& cl) {
  if (cl.help) {
    std::cout << HelpText("sysmetrics");
    return 0;
  }
  if (cl.hash_password) return HashPasswordCommand();
  if (cl.node_name_table) {
    std::cout << NodeNameTableMarkdown();
    return 0;
  }
  if (cl.version) {
    std::cout << "sysmetrics " << CurrentBuildInfo().version << " (plugin ABI "
              << SM_ABI_VERSION_MAJOR << "." << SM_ABI_VERSION_MINOR << ")\n";
    return 0;
  }
  return std::nullopt;
}

// --help-plugins: loads every plugin file (the trust checks apply), so
// plugin logging goes to stderr at the configured level, and a plugin that
// crashes in its load is named; the listing goes to stdout.
int HelpPluginsCommand(const Config& cfg) {
  InitLogging(cfg.log_format, cfg.log_level);
  InstallFatalSignalHandler(cfg.log_format);
  const Status listed = PrintPluginHelp(cfg, std::cout);
  if (!listed.ok()) {
    std::cerr << "sysmetrics: " << listed.message() << "\n";
    return 1;
  }
  return 0;
}

// Whether this process records plugins that crash it: only the serving
// process writes quarantine records; --check-config reads them, as a start
// would.
bool RecordCrashes(const CommandLine& cl, const Config& cfg) {
  if (cl.check_config) return false;
  const Status quarantine = PrepareQuarantine(cfg.state_dir);
  if (!quarantine.ok()) {
    Log(LogLevel::kWarn,
        "quarantine is off: a plugin that crashes the exporter will be "
        "loaded again by the next start",
        {{"reason", quarantine.message()}});
  }
  return quarantine.ok();
}

// Logs a configuration error found after logging started, and prints it
// too for --check-config; the exit status.
int ConfigurationError(const CommandLine& cl, const std::string& error) {
  Log(LogLevel::kError, "configuration error", {{"error", error}});
  if (cl.check_config) {
    std::cerr << "sysmetrics: configuration error: " << error << "\n";
  }
  return kExitUsage;
}

ServerOptions MakeServerOptions(const Config& cfg,
                                std::shared_ptr<const WebSecurity> web) {
  ServerOptions o;
  o.listen = cfg.listen;
  o.metrics_path = cfg.metrics_path;
  o.max_requests = static_cast<int>(cfg.max_requests);
  o.max_connections = static_cast<int>(cfg.max_connections);
  o.timeout_margin = std::chrono::duration<double>(cfg.timeout_margin_seconds);
  o.default_scrape_timeout =
      std::chrono::duration<double>(cfg.default_timeout_seconds);
  o.web = std::move(web);
  return o;
}

// Serves until SIGTERM or SIGINT: reloads on SIGHUP, and once a second
// without a signal destroys the exporters a reload replaced once their
// last scrape is done (ExporterHolder).
void ServeUntilSignal(const sigset_t& signals, const CommandLine& cl,
                      const Config& cfg, bool record_crashes,
                      ExporterHolder* holder, HttpServer* server) {
  for (;;) {
    timespec tick{1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig < 0) {
      holder->Reap();
      continue;
    }
    if (sig == SIGHUP) {
      Reload(cl, cfg, record_crashes, holder, server);
      holder->Reap();
      continue;
    }
    Log(LogLevel::kInfo, "shutdown began",
        {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    return;
  }
}

// Drains the server on another thread, so that a second signal can cut it
// short (the process exits at once then). Returns whether every request
// finished within kDrain.
bool Drain(const sigset_t& signals, HttpServer* server) {
  auto drained = std::async(std::launch::async,
                            [server] { return server->Shutdown(kDrain); });
  for (;;) {
    if (drained.wait_for(std::chrono::milliseconds(0)) ==
        std::future_status::ready) {
      return drained.get();
    }
    timespec tick{0, 20L * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      Log(LogLevel::kWarn, "second signal during shutdown: exiting now");
      std::fflush(nullptr);
      std::_Exit(kExitRuntime);
    }
  }
}

// Shuts down within kDrain: drains the server, gives runs still inside
// plugins what the drain left of it, then unloads the plugins; exits as it
// is when either is still running, as nothing can be torn down under them.
int Shutdown(const sigset_t& signals, ExporterHolder* holder,
             HttpServer* server) {
  const Clock::time_point shutdown_until = Clock::now() + kDrain;
  const bool server_drained = Drain(signals, server);
  if (!server_drained) {
    Log(LogLevel::kWarn, "requests still running after the drain bound");
  }
  if (const auto current = holder->Get()) {
    const Clock::duration left =
        std::max(Clock::duration::zero(), shutdown_until - Clock::now());
    if (!current->StopRuns(left)) {
      Log(LogLevel::kWarn,
          "collectors still running after the drain bound; exiting without "
          "unloading their plugins");
      std::fflush(nullptr);
      std::_Exit(0);
    }
  }
  if (!server_drained) {
    // The server's threads still serve those requests and use what main
    // would now destroy; the drain bound is spent, so exit as it is.
    Log(LogLevel::kWarn, "exiting with requests still running");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  holder->Set(nullptr);  // destroys the collectors and unloads the plugins
  holder->Reap(/*all=*/true);
  Log(LogLevel::kInfo, "shutdown complete");
  return 0;
}

// Builds the exporter and the web security from cfg, then (unless only
// checking the configuration) serves until a signal ends it.
int Serve(const sigset_t& signals, const CommandLine& cl, const Config& cfg) {
  InitLogging(cfg.log_format, cfg.log_level);
  // From here a fatal signal inside a plugin call names the plugin.
  InstallFatalSignalHandler(cfg.log_format);
  Log(LogLevel::kInfo, "starting",
      {{"version", CurrentBuildInfo().version},
       {"config", cfg.files.empty() ? "(defaults)" : cfg.files.front()},
       {"plugin_dir", PluginDir(cfg)},
       {"procfs", cfg.procfs}});
  const bool record_crashes = RecordCrashes(cl, cfg);
  auto exporter = BuildExporter(cfg, record_crashes);
  if (!exporter.ok()) return ConfigurationError(cl, exporter.error());
  auto web = BuildWeb(cfg);
  if (!web.ok()) return ConfigurationError(cl, web.error());
  if (cl.check_config) return ReportCheck(*exporter.value());
  ExporterHolder holder;
  holder.Set(exporter.take());
  HttpServer server(MakeServerOptions(cfg, web.take()), &holder);
  auto bound = server.Start();
  if (!bound.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", bound.error()}});
    return kExitRuntime;
  }
  Log(LogLevel::kInfo, "listening", {{"address", bound.value()}});
  ServeUntilSignal(signals, cl, cfg, record_crashes, &holder, &server);
  return Shutdown(signals, &holder, &server);
}

int Main(int argc, char** argv) {
  const sigset_t signals = HandledSignals();
  PrepareProcess(signals);
  auto parsed = ParseCommandLine(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "sysmetrics: " << parsed.error() << "\n";
    return kExitUsage;
  }
  const CommandLine& cl = parsed.value();
  if (const std::optional<int> status = RunCommand(cl)) return *status;
  auto config = LoadConfig(cl);
  if (!config.ok()) {
    std::cerr << "sysmetrics: configuration error: " << config.error() << "\n";
    return kExitUsage;
  }
  if (cl.help_plugins) return HelpPluginsCommand(config.value());
  return Serve(signals, cl, config.value());
}

}  // namespace
}  // namespace sysmetrics

int main(int argc, char** argv) {
  try {
    // A helper process for an isolated collector (plugin_helper.hpp).
    if (argc > 1 && std::string_view(argv[1]) == sysmetrics::kPluginHostFlag) {
      return sysmetrics::RunPluginHost(argc, argv);
    }
    return sysmetrics::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "sysmetrics: fatal: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "sysmetrics: fatal: unknown exception\n";
  }
  return 1;
}
