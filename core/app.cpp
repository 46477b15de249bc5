#include "app.hpp"

#include <unistd.h>

#include <filesystem>
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

Result<std::shared_ptr<Exporter>> BuildExporter(const Settings& settings) {
  const std::string dir =
      settings.plugin_dir.empty() ? DefaultPluginDir() : settings.plugin_dir;
  auto files = ListPluginFiles(dir);
  if (!files.ok()) return files.status();

  std::set<std::string> present;
  for (const auto& f : files.value()) present.insert(f.stem().string());
  for (const auto& [name, on] : settings.enabled) {
    if (on && present.count(name) == 0) {
      return Status::Error("collector '" + name + "' is enabled but there is "
                           "no " + name + ".so in " + dir);
    }
  }

  CollectorSettings cs;
  cs.procfs_root = settings.procfs;
  cs.sysfs_root = settings.sysfs;
  std::vector<std::unique_ptr<Collector>> collectors;
  for (const auto& file : files.value()) {
    const std::string name = file.stem().string();
    const auto it = settings.enabled.find(name);
    const bool enabled = it != settings.enabled.end()
                             ? it->second
                             : DefaultEnabledCollectors().count(name) != 0;
    if (!enabled) {
      Log(LogLevel::kDebug, "plugin not enabled", {{"file", file.string()}});
      continue;
    }
    auto plugin = LoadPlugin(file);
    if (!plugin.ok()) {
      Log(LogLevel::kError, "plugin refused",
          {{"file", file.string()}, {"reason", plugin.error()}});
      continue;
    }
    const PluginInfo& info = plugin.value()->info();
    auto collector = Collector::Create(
        plugin.value(), PluginOptions::Defaults(info.schema), cs);
    if (!collector.ok()) {
      Log(LogLevel::kError, "plugin refused",
          {{"file", file.string()}, {"reason", collector.error()}});
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
  return std::make_shared<Exporter>(std::move(collectors));
}

}  // namespace sysmetrics
