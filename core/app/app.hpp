// App: turns settings into a running Exporter (plugin discovery, loading,
// enabling), shared by main, --check-config and reload.
//
// Not thread-safe; called from the main thread.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <set>
#include <string>

#include "config/config.hpp"
#include "scrape/exporter.hpp"
#include "util/status.hpp"

namespace sysmetrics {

// <directory of this executable>/<relative plugin dir chosen at build time>,
// so a build tree and an installed prefix both work without flags.
std::string DefaultPluginDir();

// The plugin directory config names, or DefaultPluginDir().
std::string PluginDir(const Config& config);

// Loads every enabled plugin found in the plugin directory and creates its
// collector with its resolved options. Configuration errors fail (with
// file:line): a collector named in the configuration or on the command line
// without a plugin file, an unknown option key, a wrong option type, a
// plugin refusing its options (SM_ERR_CONFIG). Any other plugin failure
// (cannot load, wrong ABI, create fails, quarantined) is logged with the
// file and reason and that plugin becomes a RefusedCollector; --check-config
// builds the same way, so it reports what a start would.
//
// A plugin with a quarantine record in <config.state_dir>/quarantine that
// matches its file is refused without being loaded (quarantine.hpp). With
// record_crashes (the serving process, quarantine on), a record that no
// longer matches is removed, and every plugin is given a crash record
// (SetCrashRecord) before it is loaded.
Result<std::shared_ptr<Exporter>> BuildExporter(const Config& config,
                                                bool record_crashes);

// --check-config's report: every enabled collector of exporter, in name
// order, as "NAME: loaded (FILE)" or "NAME: refused (FILE): REASON", the
// verdicts a start gives. Returns how many were refused.
std::size_t PrintCollectorVerdicts(const Exporter& exporter, std::ostream& out);

// --help-plugins: loads every plugin in the plugin directory (after the
// same trust and quarantine checks as a start) and writes each one's name,
// version, ABI, whether config enables it, description, file and options (key,
// type, default, help) to out. An error if a plugin cannot be loaded (it is
// listed with the reason all the same).
Status PrintPluginHelp(const Config& config, std::ostream& out);

}  // namespace sysmetrics
