#include "app/app.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <system_error>

#include "plugin/fatal_signal.hpp"
#include "plugin/plugin_loader.hpp"
#include "plugin/quarantine.hpp"
#include "scrape/name_ownership.hpp"
#include "scrape/node_names.hpp"
#include "scrape/plugin_helper.hpp"
#include "util/log.hpp"
#include "util/paths.hpp"
#include "util/trust.hpp"

#ifndef SYSMETRICS_PLUGIN_RELDIR
#define SYSMETRICS_PLUGIN_RELDIR "../lib/sysmetrics"
#endif

namespace sysmetrics {

std::string DefaultPluginDir() {
  return BesideExecutable(SYSMETRICS_PLUGIN_RELDIR);
}

std::string PluginDir(const Config& config) {
  return config.plugin_dir.empty() ? DefaultPluginDir() : config.plugin_dir;
}

namespace {

// How plugins are checked before they are loaded.
struct LoadChecks {
  bool check_permissions = true;
  Status dir_trust;  // whether the plugin directory is safe to load from
  std::filesystem::path quarantine_dir;
  bool record_crashes = false;  // see BuildExporter
};

LoadChecks MakeLoadChecks(const Config& config, const std::string& dir,
                          bool record_crashes) {
  LoadChecks checks;
  checks.check_permissions = config.check_plugin_permissions;
  // A directory others can write to taints every plugin in it.
  if (checks.check_permissions) checks.dir_trust = CheckTrusted(dir);
  checks.quarantine_dir = QuarantineDir(config.state_dir);
  checks.record_crashes = record_crashes;
  return checks;
}

// Whether quarantine lets collector name load from real (its resolved
// path): OK, or an error whose message is the reason it does not. A record
// that no longer matches is removed by the serving process.
Status CheckNotQuarantined(const LoadChecks& checks, const std::string& name,
                           const std::filesystem::path& real) {
  const QuarantineVerdict q =
      CheckQuarantine(checks.quarantine_dir, name, real);
  if (q.quarantined) return Status::Error(q.reason);
  if (!q.stale) return Status::Ok();
  if (!checks.record_crashes) {
    Log(LogLevel::kInfo,
        "quarantine record no longer matches the plugin file (it changed "
        "since the crash); a start removes it",
        {{"collector", name}, {"record", q.record.string()}});
    return Status::Ok();
  }
  std::error_code ec;
  std::filesystem::remove(q.record, ec);
  if (ec) {
    Log(LogLevel::kWarn,
        "plugin file changed since it crashed the exporter, but its "
        "quarantine record cannot be removed; loading it",
        {{"collector", name},
         {"record", q.record.string()},
         {"error", ec.message()}});
  } else {
    Log(LogLevel::kInfo,
        "quarantine lifted: the plugin file changed since it crashed the "
        "exporter",
        {{"collector", name},
         {"file", real.string()},
         {"record", q.record.string()}});
  }
  return Status::Ok();
}

// Gives the plugin at real a crash record before its code first runs, so
// that a crash in its load is quarantined as well.
void PrepareCrashRecord(const LoadChecks& checks, const std::string& name,
                        const std::filesystem::path& real) {
  auto identity = IdentityOf(real);
  const Status set =
      identity.ok()
          ? SetCrashRecord(
                real.string(), (checks.quarantine_dir / name).string(),
                FormatQuarantineHead(name, real.string(), identity.value()))
          : identity.status();
  if (!set.ok()) {
    Log(LogLevel::kWarn,
        "plugin runs without quarantine: a crash in it would not be "
        "recorded",
        {{"collector", name}, {"error", set.message()}});
  }
}

// The resolved path of file, after the trust checks (when on). The error
// is the reason the plugin is refused.
Result<std::filesystem::path> TrustedPath(const std::filesystem::path& file,
                                          const LoadChecks& checks) {
  // Checked and loaded by the resolved path: loading through a symlink
  // would let whoever controls the link swap the target after the check.
  std::error_code resolve_error;
  const std::filesystem::path real =
      std::filesystem::canonical(file, resolve_error);
  if (resolve_error) {
    return Status::Error("cannot resolve: " + resolve_error.message());
  }
  if (checks.check_permissions) {
    const Status trusted =
        checks.dir_trust.ok() ? CheckTrusted(real) : checks.dir_trust;
    if (!trusted.ok()) {
      return Status::Error("not trusted: " + trusted.message() + kTrustHint);
    }
  }
  return real;
}

// Loads the plugin at real (a TrustedPath) into this process, after the
// quarantine check. Only a plugin in this process can crash it, so only
// here is a crash recorded and a record obeyed: an isolated plugin that
// crashed the exporter before runs isolated from then on.
Result<std::shared_ptr<LoadedPlugin>> LoadInProcess(
    const std::filesystem::path& real, const std::string& name,
    const LoadChecks& checks) {
  if (Status s = CheckNotQuarantined(checks, name, real); !s.ok()) return s;
  if (checks.record_crashes) PrepareCrashRecord(checks, name, real);
  return LoadPlugin(real, name);
}

// Whether the plugin file for name runs in a helper process.
bool Isolated(const Config& config, const std::string& name) {
  const auto it = config.collectors.find(name);
  const std::optional<bool> isolate =
      it != config.collectors.end() ? it->second.isolate : std::nullopt;
  return isolate.value_or(!IsShippedPluginName(name));
}

HelperSettings HelperSettingsFor(const Config& config,
                                 const CollectorConfig& cc) {
  HelperSettings hs;
  hs.log_format = config.log_format;
  hs.log_level = config.log_level;
  hs.memory_limit_bytes = static_cast<std::size_t>(cc.memory_limit_mib.value_or(
                              kDefaultHelperMemoryLimitMib))
                          << 20;
  return hs;
}

// The descriptor of the plugin at file, loaded as a start would load it
// (in a helper process when it would be isolated, so that a plugin that
// crashes while loading costs only its own entry).
Result<PluginInfo> DescribePlugin(const Config& config,
                                  const std::filesystem::path& file,
                                  const LoadChecks& checks) {
  const std::string name = file.stem().string();
  auto real = TrustedPath(file, checks);
  if (!real.ok()) return real.status();
  if (Isolated(config, name)) {
    auto helper = PluginHelper::Start(real.value().string(), name,
                                      HelperSettingsFor(config, {}));
    if (!helper.ok()) return helper.status();
    return helper.value()->info();
  }
  auto plugin = LoadInProcess(real.value(), name, checks);
  if (!plugin.ok()) return plugin.status();
  return plugin.value()->info();
}

// A collector started, or why not: refused (the reason; the exporter runs
// without it and reports it failed), or a configuration error (the Result's
// error: the start fails).
struct Started {
  std::unique_ptr<Collector> collector;
  std::string refused;
};

// Built-ins' options whose default is one of the host's [paths], so that a
// fixture tree or a container's host mounts are set in one place.
struct PathOption {
  const char* collector;
  const char* key;
  std::string Config::*path;
};
constexpr PathOption kPathOptions[] = {
    {"filesystem", "rootfs", &Config::rootfs},
    {"disk", "udev_data_path", &Config::udev_data},
};

// Whether the operator set option key of a collector.
bool OptionSet(const CollectorConfig& cc, std::string_view key) {
  return std::any_of(cc.options.begin(), cc.options.end(),
                     [&](const RawOption& o) { return o.key == key; });
}

// Sets a string option the operator did not set to value.
void DefaultStringOption(const CollectorConfig& cc, std::string_view key,
                         std::string_view value, PluginOptions* options) {
  OptionValue* v = options->FindMutable(key);
  if (!OptionSet(cc, key) && v != nullptr && v->type == OptionType::kString) {
    v->s = value;
  }
}

// A built-in's options that default to the host's paths.
void ApplyPathDefaults(const Config& config, const std::string& name,
                       const CollectorConfig& cc, PluginOptions* options) {
  for (const PathOption& p : kPathOptions) {
    if (name == p.collector) {
      DefaultStringOption(cc, p.key, config.*(p.path), options);
    }
  }
}

// In node mode, a built-in's options the operator did not set take
// node_exporter's defaults (node_names.hpp).
void ApplyNodeDefaults(const std::string& name, const CollectorConfig& cc,
                       PluginOptions* options) {
  for (const NodeOptionDefault& d : NodeOptionDefaults()) {
    if (d.collector == name) DefaultStringOption(cc, d.key, d.value, options);
  }
}

// Where a plugin's options were set, for an error about them.
std::string OptionsOrigin(const CollectorConfig& cc) {
  std::string where;
  for (const RawOption& o : cc.options) {
    where += (where.empty() ? " (options set at " : ", ") + o.origin.ToString();
  }
  return where.empty() ? where : where + ")";
}

Result<Started> StartCollector(const Config& config,
                               const std::filesystem::path& file,
                               const CollectorConfig& cc,
                               const LoadChecks& checks,
                               CollectorSettings settings) {
  const std::string name = file.stem().string();
  auto real = TrustedPath(file, checks);
  if (!real.ok()) return Started{nullptr, real.error()};
  const bool isolate = Isolated(config, name);
  std::shared_ptr<LoadedPlugin> plugin;
  std::unique_ptr<PluginHelper> helper;
  if (isolate) {
    auto started = PluginHelper::Start(real.value().string(), name,
                                       HelperSettingsFor(config, cc));
    if (!started.ok()) return Started{nullptr, started.error()};
    helper = started.take();
  } else {
    auto loaded = LoadInProcess(real.value(), name, checks);
    if (!loaded.ok()) return Started{nullptr, loaded.error()};
    plugin = loaded.take();
  }
  const PluginInfo& info = isolate ? helper->info() : plugin->info();
  auto options = ResolveOptions(info, cc);
  if (!options.ok()) return options.status();
  const bool node_names = config.metric_names == MetricNames::kNode &&
                          RankOf(name, info.shipped) == MergeRank::kShipped;
  if (info.shipped) ApplyPathDefaults(config, name, cc, &options.value());
  if (node_names) ApplyNodeDefaults(name, cc, &options.value());
  settings.node_names = node_names;
  // Only a built-in is trusted to keep its promise never to block; any
  // other collector runs on the pool, where a late run costs only itself.
  settings.run_inline =
      info.nonblocking && info.shipped && config.inline_nonblocking;
  sm_status create_status = SM_OK;
  auto collector =
      isolate ? Collector::CreateIsolated(std::move(helper), options.take(),
                                          settings, &create_status)
              : Collector::Create(std::move(plugin), options.take(), settings,
                                  &create_status);
  if (!collector.ok() && create_status == SM_ERR_CONFIG) {
    // The plugin refused its options: a configuration error. Point at
    // where its options were set.
    return Status::Error("collector '" + name + "': " + collector.error() +
                         OptionsOrigin(cc));
  }
  if (!collector.ok()) return Started{nullptr, collector.error()};
  return Started{collector.take(), {}};
}

}  // namespace

Status PrintPluginHelp(const Config& config, std::ostream& out) {
  const std::string dir = PluginDir(config);
  auto files = ListPluginFiles(dir);
  if (!files.ok()) return files.status();
  const LoadChecks checks = MakeLoadChecks(config, dir, false);
  out << "Plugins in " << dir << " (enable one with --collector.NAME or\n"
      << "[collectors.NAME] enabled = true; set its options under\n"
      << "[collectors.NAME.options]):\n";
  if (files.value().empty()) out << "\n(none)\n";
  bool all_loaded = true;
  for (const auto& file : files.value()) {
    const std::string name = file.stem().string();
    out << "\n" << name;
    auto described = DescribePlugin(config, file, checks);
    if (!described.ok()) {
      all_loaded = false;
      out << ": cannot be loaded: " << described.error() << "\n";
      continue;
    }
    const PluginInfo& info = described.value();
    out << " " << info.version << " (plugin ABI " << info.abi_major << "."
        << info.abi_minor << ", "
        << (IsEnabled(config, name) ? "enabled" : "disabled") << ")\n  "
        << info.description << "\n  file: " << info.file << "\n";
    if (info.schema.empty()) {
      out << "  options: none\n";
      continue;
    }
    out << "  options:\n";
    for (const OptionSpec& o : info.schema) {
      out << "    " << o.key << " (" << OptionTypeName(o.default_value.type)
          << ", default " << OptionValueToToml(o.default_value) << ")\n"
          << "        " << o.help << "\n";
    }
  }
  if (!all_loaded) {
    return Status::Error("some plugins in " + dir + " cannot be loaded");
  }
  return Status::Ok();
}

Result<std::shared_ptr<Exporter>> BuildExporter(const Config& config,
                                                bool record_crashes) {
  const std::string dir = PluginDir(config);
  auto files = ListPluginFiles(dir);
  if (!files.ok()) return files.status();
  const LoadChecks checks = MakeLoadChecks(config, dir, record_crashes);
  if (!config.check_plugin_permissions) {
    Log(LogLevel::kWarn,
        "plugin permission checks are off (plugins.check_permissions = "
        "false): any user who can write the plugin directory can run code "
        "as this service",
        {{"dir", dir}});
  }

  std::set<std::string> present;
  for (const auto& f : files.value()) present.insert(f.stem().string());
  for (const auto& [name, c] : config.collectors) {
    if (present.count(name) != 0) continue;
    std::string available;
    for (const std::string& p : present) {
      available += (available.empty() ? "" : ", ") + p;
    }
    const Origin& where =
        c.table_origin.file.empty() ? c.enabled_origin : c.table_origin;
    return Status::Error(where.ToString() + ": unknown collector '" + name +
                         "': no " + name + ".so in " + dir + " (available: " +
                         (available.empty() ? "none" : available) + ")");
  }

  CollectorSettings cs;
  cs.procfs_root = config.procfs;
  cs.sysfs_root = config.sysfs;
  std::vector<std::unique_ptr<Collector>> collectors;
  std::vector<RefusedCollector> refused;
  std::vector<std::string> disabled;
  const CollectorConfig no_config;
  for (const auto& file : files.value()) {
    const std::string name = file.stem().string();
    if (!IsEnabled(config, name)) {
      Log(LogLevel::kDebug, "plugin not enabled", {{"file", file.string()}});
      disabled.push_back(name);
      continue;
    }
    const auto it = config.collectors.find(name);
    const CollectorConfig& cc =
        it != config.collectors.end() ? it->second : no_config;
    auto refuse = [&](const std::string& reason) {
      Log(LogLevel::kError, "plugin refused",
          {{"file", file.string()}, {"reason", reason}, {"collector", name}});
      refused.push_back({name, file.string(), reason});
    };
    CollectorSettings settings = cs;
    const double timeout =
        cc.timeout_seconds.value_or(config.collector_timeout_seconds);
    settings.timeout = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(timeout));
    settings.sample_limit =
        static_cast<std::size_t>(cc.sample_limit.value_or(config.sample_limit));
    auto started = StartCollector(config, file, cc, checks, settings);
    if (!started.ok()) return started.status();
    if (!started.value().refused.empty()) {
      refuse(started.value().refused);
      continue;
    }
    std::unique_ptr<Collector>& collector = started.value().collector;
    const PluginInfo& info = collector->info();
    Log(LogLevel::kInfo, "plugin loaded",
        {{"collector", info.name},
         {"version", info.version},
         {"abi", std::to_string(info.abi_major) + "." +
                     std::to_string(info.abi_minor)},
         {"file", info.file},
         {"isolated", collector->isolated() ? "true" : "false"}});
    collectors.push_back(std::move(collector));
  }
  // The Exporter decides who owns which names and merges in that order
  // (name_ownership.hpp), whatever the order here.
  return std::make_shared<Exporter>(std::move(collectors), std::move(refused),
                                    disabled);
}

std::size_t PrintCollectorVerdicts(const Exporter& exporter,
                                   std::ostream& out) {
  std::map<std::string, std::string> verdicts;
  for (const auto& c : exporter.collectors()) {
    verdicts[c->name()] = "loaded (" + c->info().file + ")";
  }
  for (const RefusedCollector& r : exporter.refused()) {
    verdicts[r.name] = "refused (" + r.file + "): " + r.reason;
  }
  for (const auto& [name, verdict] : verdicts) {
    out << name << ": " << verdict << "\n";
  }
  return exporter.refused().size();
}

}  // namespace sysmetrics
