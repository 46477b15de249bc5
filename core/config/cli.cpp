#include "config/cli.hpp"

namespace sysmetrics {

const std::vector<FlagSpec>& Flags() {
  using CL = CommandLine;
  static const std::vector<FlagSpec> kFlags = {
      {"listen", "ADDR:PORT",
       "Address to serve HTTP on (default 0.0.0.0:9101; port 0 picks a free "
       "port).",
       &CL::listen},
      {"config", "PATH",
       "Configuration file (default /etc/sysmetrics/sysmetrics.toml).",
       &CL::config},
      {"plugin-dir", "DIR",
       "Directory of collector plugins (default: found relative to the "
       "binary).",
       &CL::plugin_dir},
      {"state-dir", "DIR",
       "Directory of the exporter's state: quarantine records of plugins "
       "that crashed it (default /var/lib/sysmetrics).",
       &CL::state_dir},
      {"procfs", "DIR", "Root of the proc filesystem (default /proc).",
       &CL::procfs},
      {"sysfs", "DIR", "Root of the sys filesystem (default /sys).",
       &CL::sysfs},
      {"rootfs", "DIR",
       "Root of the file systems whose mounts are measured (default /).",
       &CL::rootfs},
      {"udev-data", "DIR",
       "udev's database of device properties (default /run/udev/data).",
       &CL::udev_data},
      {"log-format", "text|json", "Log line format (default text).",
       &CL::log_format},
      {"log-level", "LEVEL", "debug, info, warn, error or off (default info).",
       &CL::log_level},
      {"max-requests", "N",
       "Scrapes in flight at once, running or queued; more get 503 at once "
       "(default 40).",
       &CL::max_requests},
      {"metric-names", "sysmetrics|node",
       "Serve the built-in collectors' metrics under sysmetrics_ names or "
       "node_exporter's (default sysmetrics).",
       &CL::metric_names},
      {"collector.NAME", "", "Enable the collector NAME.", nullptr, nullptr,
       true},
      {"no-collector.NAME", "", "Disable the collector NAME.", nullptr, nullptr,
       false},
      {"check-config", "",
       "Validate the configuration and load the enabled plugins, then exit.",
       nullptr, &CL::check_config},
      {"hash-password", "",
       "Read a password from standard input, print its bcrypt hash for "
       "[web.basic_auth_users], exit.",
       nullptr, &CL::hash_password},
      {"help", "", "Show this help and exit.", nullptr, &CL::help},
      {"help-plugins", "",
       "List the plugins in the plugin directory with their options, "
       "types, defaults and help, then exit.",
       nullptr, &CL::help_plugins},
      {"node-name-table", "",
       "Print the table of sysmetrics and node_exporter names (Markdown), "
       "exit.",
       nullptr, &CL::node_name_table},
      {"version", "", "Print the version and the plugin ABI version, exit.",
       nullptr, &CL::version},
  };
  return kFlags;
}

namespace {

// The flag spec that accepts name: an exact match, or "P.NAME" for a name
// "P.something".
const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& f : Flags()) {
    if (f.value == nullptr && f.toggle == nullptr) {
      const std::string_view prefix = f.name.substr(0, f.name.find('.') + 1);
      if (name.starts_with(prefix)) return &f;
    } else if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

}  // namespace

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--")) {
      return Status::Error("unexpected argument '" + std::string(arg) +
                           "' (flags start with --; see --help)");
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = std::string(arg.substr(eq + 1));
    }
    const FlagSpec* spec = FindFlag(name);
    if (spec == nullptr) {
      return Status::Error("unknown flag --" + std::string(name) +
                           " (see --help)");
    }
    if (spec->value == nullptr && inline_value) {
      return Status::Error("--" + std::string(name) + " takes no value");
    }
    if (spec->toggle != nullptr) {
      cl.*(spec->toggle) = true;
    } else if (spec->value == nullptr) {
      const std::string_view collector = name.substr(name.find('.') + 1);
      if (collector.empty()) {
        return Status::Error("--" + std::string(name) +
                             " needs a collector name after the dot");
      }
      cl.collectors.emplace_back(std::string(collector), spec->prefix_enables);
    } else if (inline_value) {
      cl.*(spec->value) = std::move(inline_value);
    } else if (i + 1 < argc) {
      cl.*(spec->value) = std::string(argv[++i]);
    } else {
      return Status::Error("--" + std::string(name) + " needs a value");
    }
  }
  return cl;
}

std::string HelpText(std::string_view program) {
  std::string out = "Usage: " + std::string(program) + " [flags]\n\n";
  out +=
      "Prometheus exporter for Linux host metrics; collectors are plugins.\n\n"
      "Flags:\n";
  for (const FlagSpec& f : Flags()) {
    std::string left = "  --" + std::string(f.name);
    if (!f.arg.empty()) left += " " + std::string(f.arg);
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "\n" + std::string(28, ' ');
    out += left + std::string(f.help) + "\n";
  }
  return out;
}

}  // namespace sysmetrics
