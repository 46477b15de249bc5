#include "textfile_parser.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "exposition_rules.hpp"

namespace sysmetrics::textfile {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view SkipBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view TakeToken(std::string_view* s) {
  std::size_t n = 0;
  while (n < s->size() && !IsBlank((*s)[n])) ++n;
  const std::string_view t = s->substr(0, n);
  s->remove_prefix(n);
  return t;
}

// Go's strconv.ParseFloat, as far as exposition values go: decimal and
// exponent forms, "Inf"/"Infinity"/"NaN" in any case with an optional
// sign. Hexadecimal floats are not accepted (Prometheus' parser does not
// either).
bool ParseFloat(std::string_view t, double* out) {
  if (t.empty() || t.size() > 64) return false;
  std::string_view body = t;
  bool negative = false;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  std::string lower(body);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "inf" || lower == "infinity") {
    *out = negative ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (lower == "nan") {
    *out = std::nan("");
    return true;
  }
  // Digits, at most one '.', an optional exponent: nothing strtod would
  // read differently (no hex, no "inf" spelled inside).
  std::size_t i = 0;
  std::size_t digits = 0;
  while (i < body.size() && IsDigit(body[i])) ++i, ++digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && IsDigit(body[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < body.size() && IsDigit(body[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != body.size()) return false;
  const std::string copy(t);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return false;
  // Out of range: Go returns ±Inf (or 0) with an error; so do we refuse.
  if (errno == ERANGE && std::isinf(v)) return false;
  *out = v;
  return true;
}

bool ParseTimestamp(std::string_view t) {
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) t.remove_prefix(1);
  return !t.empty() && t.size() <= 19 &&
         std::all_of(t.begin(), t.end(), IsDigit);
}

// Unescapes a HELP text: \\ and \n; another escape is kept as written
// (expfmt does the same for HELP).
std::string UnescapeHelp(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() &&
        (s[i + 1] == '\\' || s[i + 1] == 'n')) {
      out.push_back(s[i + 1] == 'n' ? '\n' : '\\');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool TypeFromName(std::string_view t, sm_metric_type* type) {
  if (t == "counter") {
    *type = SM_METRIC_COUNTER;
  } else if (t == "gauge") {
    *type = SM_METRIC_GAUGE;
  } else if (t == "histogram") {
    *type = SM_METRIC_HISTOGRAM;
  } else if (t == "summary") {
    *type = SM_METRIC_SUMMARY;
  } else if (t == "untyped") {
    *type = SM_METRIC_UNTYPED;
  } else {
    return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(ParsedFile* out) : out_(out) {}

  bool Line(std::string_view line, std::size_t number, std::string* error) {
    line_ = number;
    error_ = error;
    line = SkipBlanks(line);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return true;
    if (line.front() == '#') return Comment(line.substr(1));
    return SampleLine(line);
  }

 private:
  struct State {
    std::size_t index = 0;  // into out_->families
    bool has_help = false;
    bool has_type = false;
    bool has_samples = false;
  };

  bool Fail(const std::string& what) {
    *error_ = "line " + std::to_string(line_) + ": " + what;
    return false;
  }

  State& FamilyNamed(std::string_view name) {
    auto it = by_name_.find(std::string(name));
    if (it != by_name_.end()) return it->second;
    Family f;
    f.name = std::string(name);
    f.line = line_;
    out_->families.push_back(std::move(f));
    State s;
    s.index = out_->families.size() - 1;
    return by_name_.emplace(std::string(name), s).first->second;
  }

  bool Comment(std::string_view rest) {
    rest = SkipBlanks(rest);
    std::string_view keyword = TakeToken(&rest);
    if (keyword != "HELP" && keyword != "TYPE") return true;  // a comment
    rest = SkipBlanks(rest);
    const std::string_view name = TakeToken(&rest);
    if (!IsValidMetricName(name)) {
      return Fail("invalid metric name '" + std::string(name) + "' in " +
                  std::string(keyword) + " line");
    }
    if (!rest.empty()) rest.remove_prefix(1);  // the one separating blank
    if (keyword == "HELP") {
      State& s = FamilyNamed(name);
      if (s.has_help) {
        return Fail("second HELP line for metric name '" + std::string(name) +
                    "'");
      }
      if (!IsValidUtf8(rest)) return Fail("HELP text is not valid UTF-8");
      s.has_help = true;
      out_->families[s.index].help = UnescapeHelp(rest);
      return true;
    }
    // Trailing blanks after the type are tolerated.
    while (!rest.empty() && IsBlank(rest.back())) rest.remove_suffix(1);
    rest = SkipBlanks(rest);
    sm_metric_type type = SM_METRIC_UNTYPED;
    if (!TypeFromName(rest, &type)) {
      return Fail("unknown metric type '" + std::string(rest) + "'");
    }
    State& s = FamilyNamed(name);
    if (s.has_type) {
      return Fail("second TYPE line for metric name '" + std::string(name) +
                  "'");
    }
    if (s.has_samples) {
      return Fail("TYPE line for '" + std::string(name) +
                  "' after its samples");
    }
    s.has_type = true;
    out_->families[s.index].type = type;
    return true;
  }

  // The family a sample name belongs to, and its suffix; null (and the
  // error set) for a bare sample of a histogram.
  State* Owner(std::string_view name, std::string* suffix) {
    suffix->clear();
    auto it = by_name_.find(std::string(name));
    if (it != by_name_.end()) {
      if (out_->families[it->second.index].type != SM_METRIC_HISTOGRAM) {
        return &it->second;
      }
      Fail("'" + std::string(name) +
           "' is a histogram: its samples are named with _bucket, _sum or "
           "_count");
      return nullptr;
    }
    for (const std::string_view sfx : {"_bucket", "_sum", "_count"}) {
      if (name.size() <= sfx.size() || !name.ends_with(sfx)) continue;
      const std::string_view base = name.substr(0, name.size() - sfx.size());
      auto b = by_name_.find(std::string(base));
      if (b == by_name_.end()) continue;
      const sm_metric_type t = out_->families[b->second.index].type;
      if (t == SM_METRIC_HISTOGRAM ||
          (t == SM_METRIC_SUMMARY && sfx != "_bucket")) {
        *suffix = std::string(sfx);
        return &b->second;
      }
    }
    return &FamilyNamed(name);
  }

  bool SampleLine(std::string_view line) {
    std::size_t n = 0;
    while (n < line.size() && line[n] != '{' && !IsBlank(line[n])) ++n;
    const std::string_view name = line.substr(0, n);
    if (!IsValidMetricName(name)) {
      return Fail("invalid metric name '" + std::string(name) + "'");
    }
    line.remove_prefix(n);
    Sample sample;
    if (!line.empty() && line.front() == '{') {
      line.remove_prefix(1);
      if (!Labels(&line, &sample)) return false;
    }
    if (line.empty() || !IsBlank(line.front())) {
      return Fail("expected a value after '" + std::string(name) + "'");
    }
    line = SkipBlanks(line);
    const std::string_view value = TakeToken(&line);
    if (!ParseFloat(value, &sample.value)) {
      return Fail("invalid value '" + std::string(value) + "' for '" +
                  std::string(name) + "'");
    }
    line = SkipBlanks(line);
    if (!line.empty()) {
      const std::string_view ts = TakeToken(&line);
      if (!ParseTimestamp(ts)) {
        return Fail("invalid timestamp '" + std::string(ts) + "'");
      }
      if (!SkipBlanks(line).empty()) {
        return Fail("unexpected text after the timestamp");
      }
      return Fail(
          "samples with timestamps are not supported: Prometheus would "
          "record the file writer's time, not the scrape's");
    }
    State* owner = Owner(name, &sample.suffix);
    if (owner == nullptr) return false;
    State& s = *owner;
    Family& f = out_->families[s.index];
    const char* required =
        f.type == SM_METRIC_HISTOGRAM && sample.suffix == "_bucket" ? "le"
        : f.type == SM_METRIC_SUMMARY && sample.suffix.empty()      ? "quantile"
                                                                    : nullptr;
    if (required != nullptr) {
      auto it =
          std::find_if(sample.labels.begin(), sample.labels.end(),
                       [&](const auto& l) { return l.first == required; });
      double bound = 0;
      if (it == sample.labels.end()) {
        return Fail("'" + std::string(name) + "' lacks its '" + required +
                    "' label");
      }
      if (!ParseFloat(it->second, &bound)) {
        return Fail("'" + std::string(required) + "' label value '" +
                    it->second + "' is not a number");
      }
    }
    s.has_samples = true;
    f.samples.push_back(std::move(sample));
    return true;
  }

  bool Labels(std::string_view* line, Sample* sample) {
    std::string_view& s = *line;
    for (;;) {
      s = SkipBlanks(s);
      if (!s.empty() && s.front() == '}') {
        s.remove_prefix(1);
        return true;
      }
      std::size_t n = 0;
      while (n < s.size() && s[n] != '=' && s[n] != '}' && s[n] != ',' &&
             !IsBlank(s[n])) {
        ++n;
      }
      const std::string_view label = s.substr(0, n);
      if (!IsValidLabelName(label)) {
        return Fail("invalid label name '" + std::string(label) + "'");
      }
      s = SkipBlanks(s.substr(n));
      if (s.empty() || s.front() != '=') {
        return Fail("expected '=' after label name '" + std::string(label) +
                    "'");
      }
      s = SkipBlanks(s.substr(1));
      if (s.empty() || s.front() != '"') {
        return Fail("expected '\"' to start the value of label '" +
                    std::string(label) + "'");
      }
      s.remove_prefix(1);
      std::string value;
      bool closed = false;
      while (!s.empty()) {
        const char c = s.front();
        s.remove_prefix(1);
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (s.empty()) break;
        const char e = s.front();
        s.remove_prefix(1);
        if (e == '\\' || e == '"') {
          value.push_back(e);
        } else if (e == 'n') {
          value.push_back('\n');
        } else {
          return Fail(std::string("invalid escape sequence '\\") + e +
                      "' in label '" + std::string(label) + "'");
        }
      }
      if (!closed) {
        return Fail("unterminated value of label '" + std::string(label) + "'");
      }
      if (!IsValidUtf8(value)) {
        return Fail("value of label '" + std::string(label) +
                    "' is not valid UTF-8");
      }
      for (const auto& [existing, v] : sample->labels) {
        if (existing == label) {
          return Fail("label '" + std::string(label) + "' repeated");
        }
      }
      sample->labels.emplace_back(std::string(label), std::move(value));
      s = SkipBlanks(s);
      if (!s.empty() && s.front() == ',') {
        s.remove_prefix(1);
        continue;
      }
      if (!s.empty() && s.front() == '}') continue;
      return Fail("expected ',' or '}' after the value of label '" +
                  std::string(label) + "'");
    }
  }

  ParsedFile* out_;
  std::unordered_map<std::string, State> by_name_;
  std::size_t line_ = 0;
  std::string* error_ = nullptr;
};

}  // namespace

const char* TypeName(sm_metric_type t) {
  switch (t) {
    case SM_METRIC_COUNTER:
      return "counter";
    case SM_METRIC_GAUGE:
      return "gauge";
    case SM_METRIC_HISTOGRAM:
      return "histogram";
    case SM_METRIC_SUMMARY:
      return "summary";
    default:
      return "untyped";
  }
}

std::vector<std::string> ExposedNames(const Family& f) {
  std::vector<std::string> names{f.name};
  if (f.type == SM_METRIC_HISTOGRAM || f.type == SM_METRIC_SUMMARY) {
    if (f.type == SM_METRIC_HISTOGRAM) names.push_back(f.name + "_bucket");
    names.push_back(f.name + "_sum");
    names.push_back(f.name + "_count");
  } else if (f.type == SM_METRIC_COUNTER) {
    constexpr std::string_view kTotal = "_total";
    if (f.name.ends_with(kTotal)) {
      names.push_back(f.name.substr(0, f.name.size() - kTotal.size()));
    } else {
      names.push_back(f.name + std::string(kTotal));
    }
  }
  return names;
}

bool ParseTextfile(std::string_view text, ParsedFile* out, std::string* error) {
  out->families.clear();
  Parser parser(out);
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.find('\0') != std::string_view::npos) {
      *error = "line " + std::to_string(number) + ": NUL byte";
      return false;
    }
    if (!parser.Line(line, number, error)) return false;
  }
  // A family named only by HELP or TYPE has nothing to export; leave it out.
  std::erase_if(out->families,
                [](const Family& f) { return f.samples.empty(); });
  // Families are in order of first appearance: the later one is at fault.
  std::unordered_map<std::string, std::size_t> owner;
  for (std::size_t i = 0; i < out->families.size(); ++i) {
    const Family& f = out->families[i];
    for (std::string& name : ExposedNames(f)) {
      const auto [it, fresh] = owner.emplace(std::move(name), i);
      if (fresh) continue;
      const Family& g = out->families[it->second];
      *error = "line " + std::to_string(f.line) + ": " + TypeName(f.type) +
               " '" + f.name + "' clashes with " + TypeName(g.type) + " '" +
               g.name + "' (line " + std::to_string(g.line) +
               "): both would expose the name '" + it->first + "'";
      return false;
    }
  }
  return true;
}

}  // namespace sysmetrics::textfile
