#include "cli.hpp"

namespace sysmetrics {

const std::vector<FlagSpec>& Flags() {
  static const std::vector<FlagSpec> kFlags = {
      {"listen", "ADDR:PORT",
       "Address to serve HTTP on (default 0.0.0.0:9101; port 0 picks a free "
       "port)."},
      {"config", "PATH",
       "Configuration file (default /etc/sysmetrics/sysmetrics.toml)."},
      {"plugin-dir", "DIR",
       "Directory of collector plugins (default: found relative to the "
       "binary)."},
      {"procfs", "DIR", "Root of the proc filesystem (default /proc)."},
      {"sysfs", "DIR", "Root of the sys filesystem (default /sys)."},
      {"log-format", "text|json", "Log line format (default text)."},
      {"log-level", "LEVEL", "debug, info, warn, error or off (default info)."},
      {"max-requests", "N",
       "Scrapes served at once; more get 503 at once (default 40)."},
      {"collector.NAME", "", "Enable the collector NAME."},
      {"no-collector.NAME", "", "Disable the collector NAME."},
      {"check-config", "",
       "Validate the configuration and load the enabled plugins, then exit."},
      {"hash-password", "",
       "Read a password from standard input, print its bcrypt hash for "
       "[web.basic_auth_users], exit."},
      {"help", "", "Show this help and exit."},
      {"version", "", "Print the version and the plugin ABI version, exit."},
  };
  return kFlags;
}

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
    auto switch_only = [&]() -> Status {
      if (inline_value) {
        return Status::Error("--" + std::string(name) + " takes no value");
      }
      return Status::Ok();
    };
    if (name.starts_with("collector.") || name.starts_with("no-collector.")) {
      if (Status s = switch_only(); !s.ok()) return s;
      const bool enable = name.starts_with("collector.");
      const std::string_view collector = name.substr(name.find('.') + 1);
      if (collector.empty()) {
        return Status::Error("--" + std::string(name) +
                             " needs a collector name after the dot");
      }
      cl.collectors.emplace_back(std::string(collector), enable);
      continue;
    }
    if (name == "check-config" || name == "help" || name == "version" ||
        name == "hash-password") {
      if (Status s = switch_only(); !s.ok()) return s;
      (name == "help"            ? cl.help
       : name == "version"       ? cl.version
       : name == "hash-password" ? cl.hash_password
                                 : cl.check_config) = true;
      continue;
    }
    std::optional<std::string>* target = nullptr;
    if (name == "listen") {
      target = &cl.listen;
    } else if (name == "config") {
      target = &cl.config;
    } else if (name == "plugin-dir") {
      target = &cl.plugin_dir;
    } else if (name == "procfs") {
      target = &cl.procfs;
    } else if (name == "sysfs") {
      target = &cl.sysfs;
    } else if (name == "log-format") {
      target = &cl.log_format;
    } else if (name == "log-level") {
      target = &cl.log_level;
    } else if (name == "max-requests") {
      target = &cl.max_requests;
    } else {
      return Status::Error("unknown flag --" + std::string(name) +
                           " (see --help)");
    }
    if (inline_value) {
      *target = std::move(inline_value);
    } else if (i + 1 < argc) {
      *target = std::string(argv[++i]);
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
