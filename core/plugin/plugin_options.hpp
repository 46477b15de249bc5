// Plugin option schemas and the resolved values of one plugin instance.
//
// A schema is copied out of the plugin's descriptor at load (the host keeps
// no pointer into it); values are the defaults overlaid with what the
// operator configured. Plain values; thread-compatible, read-only once built.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sysmetrics {

enum class OptionType { kBool, kInt, kDouble, kString, kStringList };

std::string_view OptionTypeName(OptionType type);

struct OptionValue {
  OptionType type = OptionType::kBool;
  bool b = false;
  std::int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<std::string> list;
};

// Renders a value as it would be written in TOML (for docs and --help).
std::string OptionValueToToml(const OptionValue& value);

struct OptionSpec {
  std::string key;
  std::string help;
  OptionValue default_value;  // its type is the option's type
};

class PluginOptions {
 public:
  // All options at their defaults.
  static PluginOptions Defaults(const std::vector<OptionSpec>& schema);

  // The value of key if the schema declares it with this type, else null.
  const OptionValue* Find(std::string_view key, OptionType type) const;
  OptionValue* FindMutable(std::string_view key);
  // Every option with its value, in schema order.
  const std::vector<std::pair<std::string, OptionValue>>& values() const {
    return values_;
  }

 private:
  std::vector<std::pair<std::string, OptionValue>> values_;
};

}  // namespace sysmetrics
