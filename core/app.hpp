// App: turns settings into a running Exporter (plugin discovery, loading,
// enabling), shared by main, --check-config and reload.
//
// Not thread-safe; called from the main thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "exporter.hpp"
#include "status.hpp"

namespace sysmetrics {

// Collectors enabled when the configuration says nothing about them.
const std::set<std::string>& DefaultEnabledCollectors();

struct Settings {
  std::string listen = "0.0.0.0:9101";
  std::string plugin_dir;  // empty: DefaultPluginDir()
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  // Explicit enable (true) / disable (false) per collector name.
  std::map<std::string, bool> enabled;
};

// <directory of this executable>/<relative plugin dir chosen at build time>,
// so a build tree and an installed prefix both work without flags.
std::string DefaultPluginDir();

// Loads every enabled plugin found in the plugin directory and creates its
// collector. A plugin that fails to load or create is logged and skipped.
// Fails (without starting anything) when the directory is unreadable or a
// collector enabled by name has no plugin file.
Result<std::shared_ptr<Exporter>> BuildExporter(const Settings& settings);

}  // namespace sysmetrics
