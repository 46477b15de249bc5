#include "plugin/plugin_options.hpp"

#include "util/number_format.hpp"

namespace sysmetrics {
namespace {

void AppendTomlString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

std::string_view OptionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kBool:
      return "boolean";
    case OptionType::kInt:
      return "integer";
    case OptionType::kDouble:
      return "float";
    case OptionType::kString:
      return "string";
    case OptionType::kStringList:
      break;
  }
  return "array of strings";
}

std::string OptionValueToToml(const OptionValue& value) {
  std::string out;
  switch (value.type) {
    case OptionType::kBool:
      return value.b ? "true" : "false";
    case OptionType::kInt:
      return std::to_string(value.i);
    case OptionType::kDouble:
      AppendValue(out, value.d);
      if (out.find_first_of(".eEIN") == std::string::npos) out.append(".0");
      return out;
    case OptionType::kString:
      AppendTomlString(out, value.s);
      return out;
    case OptionType::kStringList:
      out.push_back('[');
      for (std::size_t i = 0; i < value.list.size(); ++i) {
        if (i != 0) out.append(", ");
        AppendTomlString(out, value.list[i]);
      }
      out.push_back(']');
      return out;
  }
  return out;
}

PluginOptions PluginOptions::Defaults(const std::vector<OptionSpec>& schema) {
  PluginOptions o;
  o.values_.reserve(schema.size());
  for (const OptionSpec& spec : schema) {
    o.values_.emplace_back(spec.key, spec.default_value);
  }
  return o;
}

const OptionValue* PluginOptions::Find(std::string_view key,
                                       OptionType type) const {
  for (const auto& [k, v] : values_) {
    if (k == key) return v.type == type ? &v : nullptr;
  }
  return nullptr;
}

OptionValue* PluginOptions::FindMutable(std::string_view key) {
  for (auto& [k, v] : values_) {
    if (k == key) return &v;
  }
  return nullptr;
}

}  // namespace sysmetrics
