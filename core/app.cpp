#include "app.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <ostream>
#include <system_error>

#include "log.hpp"
#include "plugin_helper.hpp"
#include "plugin_loader.hpp"

#ifndef SYSMETRICS_PLUGIN_RELDIR
#define SYSMETRICS_PLUGIN_RELDIR "../lib/sysmetrics"
#endif

namespace sysmetrics {

const std::set<std::string>& DefaultEnabledCollectors() {
  static const std::set<std::string> kDefaults = {"cpu", "disk", "memory",
                                                  "network"};
  return kDefaults;
}

std::string DefaultPluginDir() {
  // The kernel's link to our own executable; not the procfs root that
  // collectors read, which is configurable.
  std::error_code ec;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path base =
      ec ? std::filesystem::current_path() : exe.parent_path();
  return (base / SYSMETRICS_PLUGIN_RELDIR).lexically_normal().string();
}

std::string PluginDir(const Config& config) {
  return config.plugin_dir.empty() ? DefaultPluginDir() : config.plugin_dir;
}

namespace {

// The resolved path of file, after the trust checks when check is set
// (dir_problem: what is wrong with the directory, if anything). The error
// is the reason the plugin is refused.
Result<std::filesystem::path> TrustedPath(const std::filesystem::path& file,
                                          const std::string& dir_problem,
                                          bool check) {
  // Checked and loaded by the resolved path: loading through a symlink
  // would let whoever controls the link swap the target after the check.
  std::error_code resolve_error;
  const std::filesystem::path real =
      std::filesystem::canonical(file, resolve_error);
  if (resolve_error) {
    return Status::Error("cannot resolve: " + resolve_error.message());
  }
  if (check) {
    const std::string problem =
        dir_problem.empty() ? TrustProblem(real) : dir_problem;
    if (!problem.empty()) {
      return Status::Error("not trusted: " + problem + kTrustHint);
    }
  }
  return real;
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
                                  const std::string& dir_problem) {
  const std::string name = file.stem().string();
  auto real = TrustedPath(file, dir_problem, config.check_plugin_permissions);
  if (!real.ok()) return real.status();
  if (Isolated(config, name)) {
    auto helper = PluginHelper::Start(real.value().string(), name,
                                      HelperSettingsFor(config, {}));
    if (!helper.ok()) return helper.status();
    return helper.value()->info();
  }
  auto plugin = LoadPlugin(real.value(), name);
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
                               const std::string& dir_problem,
                               CollectorSettings settings) {
  const std::string name = file.stem().string();
  auto real = TrustedPath(file, dir_problem, config.check_plugin_permissions);
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
    auto loaded = LoadPlugin(real.value(), name);
    if (!loaded.ok()) return Started{nullptr, loaded.error()};
    plugin = loaded.take();
  }
  const PluginInfo& info = isolate ? helper->info() : plugin->info();
  auto options = ResolveOptions(info, cc);
  if (!options.ok()) return options.status();
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
  const std::string dir_problem =
      config.check_plugin_permissions ? TrustProblem(dir) : std::string();
  out << "Plugins in " << dir << " (enable one with --collector.NAME or\n"
      << "[collectors.NAME] enabled = true; set its options under\n"
      << "[collectors.NAME.options]):\n";
  if (files.value().empty()) out << "\n(none)\n";
  bool all_loaded = true;
  for (const auto& file : files.value()) {
    const std::string name = file.stem().string();
    out << "\n" << name;
    auto described = DescribePlugin(config, file, dir_problem);
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
                                                bool strict) {
  const std::string dir = PluginDir(config);
  auto files = ListPluginFiles(dir);
  if (!files.ok()) return files.status();
  // A directory others can write to taints every plugin in it.
  std::string dir_problem;
  if (config.check_plugin_permissions) {
    dir_problem = TrustProblem(dir);
  } else {
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
  const CollectorConfig no_config;
  for (const auto& file : files.value()) {
    const std::string name = file.stem().string();
    if (!IsEnabled(config, name)) {
      Log(LogLevel::kDebug, "plugin not enabled", {{"file", file.string()}});
      continue;
    }
    const auto it = config.collectors.find(name);
    const CollectorConfig& cc =
        it != config.collectors.end() ? it->second : no_config;
    auto refuse = [&](const std::string& reason) -> Status {
      if (strict) return Status::Error(file.string() + ": " + reason);
      Log(LogLevel::kError, "plugin refused",
          {{"file", file.string()}, {"reason", reason}, {"collector", name}});
      refused.push_back({name, file.string(), reason});
      return Status::Ok();
    };
    CollectorSettings settings = cs;
    const double timeout =
        cc.timeout_seconds.value_or(config.collector_timeout_seconds);
    settings.timeout = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(timeout));
    settings.sample_limit =
        static_cast<std::size_t>(cc.sample_limit.value_or(config.sample_limit));
    auto started = StartCollector(config, file, cc, dir_problem, settings);
    if (!started.ok()) return started.status();
    if (!started.value().refused.empty()) {
      if (Status s = refuse(started.value().refused); !s.ok()) return s;
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
  // Name clashes go to the collector merged first. Files written by other
  // programs (textfile) never displace a plugin's family: merge them last.
  std::stable_partition(collectors.begin(), collectors.end(),
                        [](const std::unique_ptr<Collector>& c) {
                          return c->name() != "textfile";
                        });
  return std::make_shared<Exporter>(std::move(collectors), std::move(refused));
}

}  // namespace sysmetrics
