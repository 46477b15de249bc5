#include "app.hpp"

#include <unistd.h>

#include <filesystem>
#include <ostream>
#include <system_error>

#include "log.hpp"
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

// Loads file by its resolved path, after the trust checks when check is
// set (dir_problem: what is wrong with the directory, if anything). The
// error is the reason the plugin is refused.
Result<std::shared_ptr<LoadedPlugin>> LoadTrusted(
    const std::filesystem::path& file, const std::string& dir_problem,
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
  return LoadPlugin(real, file.stem().string());
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
    auto plugin =
        LoadTrusted(file, dir_problem, config.check_plugin_permissions);
    if (!plugin.ok()) {
      all_loaded = false;
      out << ": cannot be loaded: " << plugin.error() << "\n";
      continue;
    }
    const PluginInfo& info = plugin.value()->info();
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
    auto plugin =
        LoadTrusted(file, dir_problem, config.check_plugin_permissions);
    if (!plugin.ok()) {
      if (Status s = refuse(plugin.error()); !s.ok()) return s;
      continue;
    }
    const PluginInfo& info = plugin.value()->info();
    auto options = ResolveOptions(info, cc);
    if (!options.ok()) return options.status();
    CollectorSettings settings = cs;
    const double timeout =
        cc.timeout_seconds.value_or(config.collector_timeout_seconds);
    settings.timeout = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(timeout));
    settings.sample_limit =
        static_cast<std::size_t>(cc.sample_limit.value_or(config.sample_limit));
    settings.run_inline = info.nonblocking && config.inline_nonblocking;
    sm_status create_status = SM_OK;
    auto collector = Collector::Create(plugin.value(), options.take(), settings,
                                       &create_status);
    if (!collector.ok()) {
      if (create_status == SM_ERR_CONFIG) {
        // The plugin refused its options: a configuration error. Point at
        // where its options were set.
        std::string where;
        for (const RawOption& o : cc.options) {
          where += (where.empty() ? " (options set at " : ", ") +
                   o.origin.ToString();
        }
        if (!where.empty()) where += ")";
        return Status::Error("collector '" + name + "': " + collector.error() +
                             where);
      }
      if (Status s = refuse(collector.error()); !s.ok()) return s;
      continue;
    }
    Log(LogLevel::kInfo, "plugin loaded",
        {{"collector", info.name},
         {"version", info.version},
         {"abi", std::to_string(info.abi_major) + "." +
                     std::to_string(info.abi_minor)},
         {"file", info.file}});
    collectors.push_back(collector.take());
  }
  // The Exporter decides who owns which names and merges in that order
  // (name_ownership.hpp), whatever the order here.
  return std::make_shared<Exporter>(std::move(collectors), std::move(refused));
}

}  // namespace sysmetrics
