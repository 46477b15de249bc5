#include "scrape/text_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>

#include "common/text.hpp"
#include "util/number_format.hpp"

namespace sysmetrics {

namespace {

// Whether any byte of word is c (the classic has-zero-byte test on
// word ^ c...c; exact, no false positives).
bool HasByte(std::uint64_t word, unsigned char c) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t x = word ^ (kOnes * c);
  return ((x - kOnes) & ~x & kHigh) != 0;
}

// Index of the first byte of s at or after from that needs escaping ('\\',
// '\n', and '"' when quote is set), or s.size(). Help and label values are
// scanned on every scrape and seldom hold one: eight bytes at a time.
std::size_t FindEscape(std::string_view s, std::size_t from, bool quote) {
  std::size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, sizeof word);
    if (HasByte(word, '\\') || HasByte(word, '\n') ||
        (quote && HasByte(word, '"'))) {
      break;
    }
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' || c == '\n' || (quote && c == '"')) return i;
  }
  return s.size();
}

void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  std::size_t run = 0;
  for (std::size_t i = FindEscape(text, 0, quote); i < text.size();
       i = FindEscape(text, run, quote)) {
    const char c = text[i];
    out.append(text.substr(run, i - run));
    out.append(c == '\\' ? "\\\\" : c == '\n' ? "\\n" : "\\\"");
    run = i + 1;
  }
  out.append(text.substr(run));
}

}  // namespace

void AppendEscapedHelp(std::string& out, std::string_view help) {
  AppendEscaped(out, help, /*quote=*/false);
}

void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  AppendEscaped(out, value, /*quote=*/true);
}

namespace {

// Writes a family's samples; sample names are prefix + the sample's suffix.
void AppendSamples(std::string& out, const MetricSet& set,
                   const MetricSet::Family& family, std::string_view prefix) {
  const std::uint32_t end = family.first_sample + family.sample_count;
  for (std::uint32_t i = family.first_sample; i < end; ++i) {
    const MetricSet::Sample& s = set.sample(i);
    out.append(prefix).append(set.str(s.suffix));
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

// OpenMetrics HELP: \\, \n and \" escaped.
void AppendOpenMetricsHelp(std::string& out, std::string_view help) {
  AppendEscaped(out, help, /*quote=*/true);
}

std::string_view OpenMetricsTypeName(MetricType type) {
  return type == MetricType::kUntyped ? "unknown" : MetricTypeName(type);
}

}  // namespace

void AppendFamilyText(std::string& out, const MetricSet& set,
                      const MetricSet::Family& family) {
  if (family.sample_count == 0) return;
  const std::string_view name = set.str(family.name);
  out.append("# HELP ").append(name).push_back(' ');
  AppendEscapedHelp(out, set.str(family.help));
  out.append("\n# TYPE ").append(name).push_back(' ');
  out.append(MetricTypeName(family.type)).push_back('\n');
  AppendSamples(out, set, family, name);
}

std::string_view OpenMetricsFamilyName(std::string_view name, MetricType type) {
  if (type == MetricType::kCounter && name.ends_with("_total")) {
    name.remove_suffix(6);
  }
  return name;
}

void AppendFamilyOpenMetrics(std::string& out, const MetricSet& set,
                             const MetricSet::Family& family) {
  if (family.sample_count == 0) return;
  const std::string_view name =
      OpenMetricsFamilyName(set.str(family.name), family.type);
  out.append("# HELP ").append(name).push_back(' ');
  AppendOpenMetricsHelp(out, set.str(family.help));
  out.append("\n# TYPE ").append(name).push_back(' ');
  out.append(OpenMetricsTypeName(family.type)).push_back('\n');
  const std::string_view unit = set.str(family.unit);
  if (!unit.empty()) {
    out.append("# UNIT ").append(name).push_back(' ');
    out.append(unit).push_back('\n');
  }
  if (family.type == MetricType::kCounter) {
    thread_local std::string sample_name;
    sample_name.assign(name).append("_total");
    AppendSamples(out, set, family, sample_name);
  } else {
    AppendSamples(out, set, family, name);
  }
}

void AppendSetOpenMetrics(std::string& out, const MetricSet& set) {
  for (const MetricSet::Family& f : set.families()) {
    AppendFamilyOpenMetrics(out, set, f);
  }
}

ExpositionFormat NegotiateFormat(std::string_view accept) {
  double om_q = 0;
  double text_q = 0;
  while (!accept.empty()) {
    const std::size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view()
                                             : accept.substr(comma + 1);
    const std::size_t semi = range.find(';');
    const std::string_view type = TrimBlanks(range.substr(0, semi));
    std::string_view params = semi == std::string_view::npos
                                  ? std::string_view()
                                  : range.substr(semi + 1);
    double q = 1;
    std::string_view version;
    bool bad = false;
    while (!params.empty()) {
      const std::size_t next = params.find(';');
      const std::string_view param = params.substr(0, next);
      params = next == std::string_view::npos ? std::string_view()
                                              : params.substr(next + 1);
      const std::size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view key = TrimBlanks(param.substr(0, eq));
      std::string_view value = TrimBlanks(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (EqualsIgnoreCase(key, "q")) {
        const std::optional<double> parsed = ParseWhole<double>(value);
        bad = !parsed || !(*parsed >= 0 && *parsed <= 1);
        if (!bad) q = *parsed;
      } else if (EqualsIgnoreCase(key, "version")) {
        version = value;
      }
    }
    if (bad) continue;
    if (EqualsIgnoreCase(type, "application/openmetrics-text")) {
      if (version.empty() || version == "1.0.0" || version == "0.0.1") {
        om_q = std::max(om_q, q);
      }
    } else if (EqualsIgnoreCase(type, "text/plain")) {
      if (version.empty() || version == "0.0.4") text_q = std::max(text_q, q);
    } else if (EqualsIgnoreCase(type, "text/*") || type == "*/*") {
      text_q = std::max(text_q, q);
    }
  }
  return om_q > 0 && om_q > text_q ? ExpositionFormat::kOpenMetrics
                                   : ExpositionFormat::kText;
}

void AppendSetText(std::string& out, const MetricSet& set) {
  for (const MetricSet::Family& f : set.families()) {
    AppendFamilyText(out, set, f);
  }
}

}  // namespace sysmetrics
