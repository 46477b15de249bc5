// Configuration: the TOML file, its conf.d drop-ins and the command line,
// merged into one Config, with every error naming file, line and the fix.
//
// Precedence, lowest first: built-in defaults, the main file, each
// conf.d/*.toml beside it in name order, command-line flags. The main file
// may be missing only when it is the default path. Plugin option tables
// ([collectors.<name>]) are kept as typed raw values with their locations
// and checked against the plugin's own schema once it is loaded
// (ResolveOptions), since only the plugin knows its options.
//
// Pure functions of their inputs and the files they read; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/cli.hpp"
#include "plugin/plugin_loader.hpp"
#include "plugin/plugin_options.hpp"
#include "scrape/node_names.hpp"
#include "util/log.hpp"
#include "util/status.hpp"

namespace sysmetrics {

inline constexpr const char* kDefaultConfigPath =
    "/etc/sysmetrics/sysmetrics.toml";
inline constexpr const char* kDefaultStateDir = "/var/lib/sysmetrics";

// Where a value was set: "file:line", or "--flag" / "default".
struct Origin {
  std::string file;
  std::size_t line = 0;
  std::string ToString() const;
};

// A plugin option as written in TOML, before the schema gives it a type.
struct RawOption {
  std::string key;
  enum class Kind { kBool, kInt, kDouble, kString, kStringList, kOther };
  Kind kind = Kind::kOther;
  OptionValue value;      // filled for every kind but kOther
  std::string toml_type;  // "a string", "an integer", ... for messages
  Origin origin;
};

// Keys of [collectors.NAME] that belong to the host, not to the plugin.
inline constexpr const char* kHostCollectorKeys[] = {
    "enabled", "timeout_seconds", "sample_limit", "isolate",
    "memory_limit_mib"};

// The memory an isolated collector's helper may use before it is restarted,
// unless [collectors.NAME] memory_limit_mib says otherwise.
inline constexpr std::int64_t kDefaultHelperMemoryLimitMib = 256;
inline constexpr std::int64_t kMaxHelperMemoryLimitMib = 1 << 20;

struct CollectorConfig {
  std::optional<bool> enabled;  // unset: the default for that collector
  Origin enabled_origin;
  std::optional<double> timeout_seconds;     // unset: [scrape] default
  std::optional<std::int64_t> sample_limit;  // unset: [scrape] default
  // Run the plugin in a helper process; unset: yes for plugins not shipped
  // with sysmetrics, no for the built-ins.
  std::optional<bool> isolate;
  std::optional<std::int64_t> memory_limit_mib;  // isolated only
  Origin table_origin;  // where [collectors.<name>] was (last) defined
  std::vector<RawOption> options;  // everything but "enabled"
};

// [web]: TLS and basic authentication, after the Prometheus
// exporter-toolkit's web configuration.
struct WebConfig {
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;  // set: clients must present a certificate
  std::string tls_min_version = "TLS12";  // or "TLS13"
  Origin tls_origin;                      // where [web.tls] was set
  std::map<std::string, std::string> basic_auth_users;  // name -> bcrypt hash
  bool health_without_auth = false;  // /health answers without credentials
  bool tls() const { return !tls_cert_file.empty(); }
};

struct Config {
  std::string listen = "0.0.0.0:9101";
  std::string metrics_path = "/metrics";
  // The built-in collectors' family names: sysmetrics_ or node_exporter's
  // (node_names.hpp).
  MetricNames metric_names = MetricNames::kSysmetrics;
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  // The root file system whose mounts are measured (statvfs on rootfs +
  // mount point), and udev's database of device properties: the defaults
  // of the built-ins' options that read them (app.cpp, kPathOptions).
  std::string rootfs = "/";
  std::string udev_data = "/run/udev/data";
  std::string plugin_dir;  // empty: relative to the binary
  // Refuse plugin files and directories others could write (CheckTrusted);
  // false only for development trees.
  bool check_plugin_permissions = true;
  // Where the serving process keeps state: quarantine records of plugins
  // that crashed it (quarantine.hpp). An absolute path.
  std::string state_dir = kDefaultStateDir;
  std::int64_t max_requests = 40;       // concurrent scrapes before 503
  std::int64_t max_connections = 1024;  // open connections kept
  // Where the last of the two was set (file:line, or the flag), for the
  // error when max_connections is not above max_requests.
  Origin connection_limits_origin;
  // Deadlines: Prometheus' announced timeout less the margin, else the
  // default; each collector is further capped by its own timeout if set.
  double timeout_margin_seconds = 0.5;
  double default_timeout_seconds = 10;
  double collector_timeout_seconds = 0;  // 0: no cap beyond the scrape's
  std::int64_t sample_limit = 100000;    // per collector and scrape
  // Run collectors whose plugin promises never to block on the scraping
  // thread (ABI 1.1 SM_PLUGIN_NONBLOCKING); false: always on the pool.
  bool inline_nonblocking = true;
  LogFormat log_format = LogFormat::kText;
  LogLevel log_level = LogLevel::kInfo;
  WebConfig web;
  std::map<std::string, CollectorConfig> collectors;
  std::vector<std::string> files;  // configuration files read, in order
};

// Reads the configuration files named by cl.config (or default_path, which
// may be missing) and applies the flags. Fails with "file:line: problem" on
// the first error.
Result<Config> LoadConfig(const CommandLine& cl,
                          const std::string& default_path = kDefaultConfigPath);

// Checks a collector's configured options against its plugin's schema and
// returns the values to create it with. Unknown keys and wrong types fail
// with "file:line: ..." naming the valid keys or the expected type.
Result<PluginOptions> ResolveOptions(const PluginInfo& plugin,
                                     const CollectorConfig& config);

// Collectors enabled when the configuration says nothing about them.
const std::set<std::string>& DefaultEnabledCollectors();

// Whether collector name runs under config (explicit setting or default).
bool IsEnabled(const Config& config, const std::string& name);

}  // namespace sysmetrics
