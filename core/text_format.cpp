#include "text_format.hpp"

#include <charconv>
#include <cmath>

namespace sysmetrics {

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void AppendEscapedHelp(std::string& out, std::string_view help) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < help.size(); ++i) {
    const char c = help[i];
    if (c != '\\' && c != '\n') continue;
    out.append(help.substr(run, i - run));
    out.append(c == '\\' ? "\\\\" : "\\n");
    run = i + 1;
  }
  out.append(help.substr(run));
}

void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '\n' && c != '"') continue;
    out.append(value.substr(run, i - run));
    out.append(c == '\\' ? "\\\\" : c == '\n' ? "\\n" : "\\\"");
    run = i + 1;
  }
  out.append(value.substr(run));
}

void AppendFamilyText(std::string& out, const MetricSet& set,
                      const MetricSet::Family& family) {
  const std::uint32_t end = family.first_sample + family.sample_count;
  bool any = false;
  for (std::uint32_t i = family.first_sample; i < end && !any; ++i) {
    any = !set.sample(i).dropped;
  }
  if (!any) return;
  const std::string_view name = set.str(family.name);
  out.append("# HELP ").append(name).push_back(' ');
  AppendEscapedHelp(out, set.str(family.help));
  out.append("\n# TYPE ").append(name).push_back(' ');
  out.append(MetricTypeName(family.type)).push_back('\n');
  for (std::uint32_t i = family.first_sample; i < end; ++i) {
    const MetricSet::Sample& s = set.sample(i);
    if (s.dropped) continue;
    out.append(name).append(set.str(s.suffix));
    if (s.label_count != 0) {
      out.push_back('{');
      for (std::uint32_t j = 0; j < s.label_count; ++j) {
        const MetricSet::Label& l = set.label(s.first_label + j);
        if (j != 0) out.push_back(',');
        out.append(set.str(l.name)).append("=\"");
        AppendEscapedLabelValue(out, set.str(l.value));
        out.push_back('"');
      }
      out.push_back('}');
    }
    out.push_back(' ');
    AppendValue(out, s.value);
    out.push_back('\n');
  }
}

void AppendSetText(std::string& out, const MetricSet& set) {
  for (const MetricSet::Family& f : set.families()) {
    AppendFamilyText(out, set, f);
  }
}

}  // namespace sysmetrics
