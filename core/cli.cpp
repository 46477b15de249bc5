#include "cli.hpp"

#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>
#include <Poco/Util/OptionSet.h>

#include <string>

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
      {"procfs", "DIR", "Root of the proc filesystem (default /proc).",
       &CL::procfs},
      {"sysfs", "DIR", "Root of the sys filesystem (default /sys).",
       &CL::sysfs},
      {"log-format", "text|json", "Log line format (default text).",
       &CL::log_format},
      {"log-level", "LEVEL", "debug, info, warn, error or off (default info).",
       &CL::log_level},
      {"max-requests", "N",
       "Scrapes served at once; more get 503 at once (default 40).",
       &CL::max_requests},
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
      {"version", "", "Print the version and the plugin ABI version, exit.",
       nullptr, &CL::version},
  };
  return kFlags;
}

namespace {

// The family's spec ("collector.NAME" or "no-collector.NAME") that a flag
// name belongs to: the name starts with the spec's name up to its dot.
const FlagSpec* FamilyOf(std::string_view name) {
  for (const FlagSpec& f : Flags()) {
    if (f.value != nullptr || f.toggle != nullptr) continue;
    if (name.starts_with(f.name.substr(0, f.name.find('.') + 1))) return &f;
  }
  return nullptr;
}

// The spec of the flag named exactly name, outside the family.
const FlagSpec* ExactFlag(std::string_view name) {
  for (const FlagSpec& f : Flags()) {
    if ((f.value != nullptr || f.toggle != nullptr) && f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

// Every flag but the family as a Poco option: value flags require their
// argument ("--flag value" or "--flag=value"), switches take none, and any
// flag may be repeated (the last value wins).
Poco::Util::OptionSet PocoOptions() {
  Poco::Util::OptionSet options;
  for (const FlagSpec& f : Flags()) {
    if (f.value == nullptr && f.toggle == nullptr) continue;
    Poco::Util::Option option(std::string(f.name), "", std::string(f.help));
    option.repeatable(true);
    if (f.value != nullptr) option.argument(std::string(f.arg));
    options.addOption(option);
  }
  return options;
}

// Whether name is an option's full name as written. OptionSet also accepts
// a unique prefix ("--list") and any case ("--LISTEN"); we do not.
bool IsOptionName(const Poco::Util::OptionSet& options, std::string_view name) {
  try {
    return options.getOption(std::string(name)).fullName() == name;
  } catch (const Poco::Util::OptionException&) {  // unknown or ambiguous
    return false;
  }
}

// --collector.NAME / --no-collector.NAME: the collector after the dot.
Status AddCollector(const FlagSpec& family, std::string_view arg,
                    CommandLine* cl) {
  const std::string_view name = arg.substr(0, arg.find('='));
  if (name.size() != arg.size()) {
    return Status::Error("--" + std::string(name) + " takes no value");
  }
  const std::string_view collector = name.substr(name.find('.') + 1);
  if (collector.empty()) {
    return Status::Error("--" + std::string(name) +
                         " needs a collector name after the dot");
  }
  cl->collectors.emplace_back(std::string(collector), family.prefix_enables);
  return Status::Ok();
}

}  // namespace

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  const Poco::Util::OptionSet options = PocoOptions();
  Poco::Util::OptionProcessor processor(options);
  processor.setUnixStyle(true);
  CommandLine cl;
  // The flag whose value is the next argument, whatever it looks like.
  std::string pending;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    // What the processor must not see: arguments that are not "--flag"
    // (it would skip them, or read "-x" as a short option), the family
    // (no Option can match it) and inexact names.
    std::string_view name;
    if (pending.empty()) {
      if (!arg.starts_with("--")) {
        return Status::Error("unexpected argument '" + std::string(arg) +
                             "' (flags start with --; see --help)");
      }
      const std::string_view flag = arg.substr(2);
      name = flag.substr(0, flag.find('='));
      if (const FlagSpec* family = FamilyOf(name)) {
        if (Status s = AddCollector(*family, flag, &cl); !s.ok()) return s;
        continue;
      }
      if (!IsOptionName(options, name)) {
        return Status::Error("unknown flag --" + std::string(name) +
                             " (see --help)");
      }
    }
    std::string option;
    std::string value;
    try {
      processor.process(std::string(arg), option, value);
    } catch (const Poco::Util::UnexpectedArgumentException&) {
      return Status::Error("--" + std::string(name) + " takes no value");
    }
    if (option.empty()) {  // a value flag without "=": the value follows
      pending = name;
      continue;
    }
    pending.clear();
    const FlagSpec& spec = *ExactFlag(option);
    if (spec.toggle != nullptr) {
      cl.*(spec.toggle) = true;
    } else {
      cl.*(spec.value) = std::move(value);
    }
  }
  try {
    processor.checkRequired();
  } catch (const Poco::Util::MissingArgumentException&) {
    return Status::Error("--" + pending + " needs a value");
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
