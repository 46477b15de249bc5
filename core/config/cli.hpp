// Command line: one table of flags, parsed into CommandLine.
//
// Every flag is declared once in kFlags (name, argument, help) so that
// --help, the parser and the documentation test agree. Values are kept as
// given; the configuration layer decides what they override. Not Poco Util's
// OptionProcessor, which would cost 1.2 MiB of resident memory: see
// DESIGN.md, *The process frame, and Poco Util*. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.hpp"

namespace sysmetrics {

struct CommandLine;

// One flag. Exactly one of value, toggle and prefix describes what the
// parser does with it: store its value, set a switch, or (for a name ending
// in ".NAME") record the collector named after the dot.
struct FlagSpec {
  std::string_view name;  // without the leading "--"
  std::string_view arg;   // placeholder, empty for switches
  std::string_view help;
  std::optional<std::string> CommandLine::*value = nullptr;
  bool CommandLine::*toggle = nullptr;
  bool prefix_enables = false;  // for "collector.NAME" / "no-collector.NAME"
};

const std::vector<FlagSpec>& Flags();

struct CommandLine {
  std::optional<std::string> listen;
  std::optional<std::string> config;
  std::optional<std::string> plugin_dir;
  std::optional<std::string> state_dir;
  std::optional<std::string> procfs;
  std::optional<std::string> sysfs;
  std::optional<std::string> rootfs;
  std::optional<std::string> udev_data;
  std::optional<std::string> log_format;
  std::optional<std::string> log_level;
  std::optional<std::string> max_requests;
  std::optional<std::string> metric_names;
  // --collector.NAME (true) and --no-collector.NAME (false), in order given.
  std::vector<std::pair<std::string, bool>> collectors;
  bool check_config = false;
  bool hash_password = false;
  bool help = false;
  bool help_plugins = false;
  bool node_name_table = false;
  bool version = false;
};

// Parses argv[1..]. Accepts "--flag value" and "--flag=value".
Result<CommandLine> ParseCommandLine(int argc, const char* const* argv);

std::string HelpText(std::string_view program);

}  // namespace sysmetrics
