#include "strict_parse.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <system_error>

namespace sysmetrics::fuzz {
namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsKnownType(std::string_view t, bool om) {
  if (om) {
    // The OpenMetrics types this parser knows; gaugehistogram, stateset
    // and info exist too, but the serializer never writes them.
    return t == "counter" || t == "gauge" || t == "unknown" || t == "summary" ||
           t == "histogram";
  }
  return t == "counter" || t == "gauge" || t == "untyped" || t == "summary" ||
         t == "histogram";
}

// The names a family of this type may give its samples besides its own.
// OpenMetrics adds _created, and names a counter's samples _total.
std::vector<std::string> SuffixedNames(const std::string& name,
                                       std::string_view type, bool om) {
  std::vector<std::string> out;
  if (type == "summary") out = {name + "_sum", name + "_count"};
  if (type == "histogram") {
    out = {name + "_bucket", name + "_sum", name + "_count"};
  }
  // OpenMetrics also has <name>_created samples; the serializer writes
  // none, and the format does not reserve the name, so neither does this.
  if (om && type == "counter") out = {name + "_total"};
  return out;
}

bool BelongsTo(const ParsedFamily& f, std::string_view sample, bool om) {
  if (sample == f.name) {
    return f.type != "histogram" && !(om && f.type == "counter");
  }
  if (!sample.starts_with(f.name)) return false;
  const std::string_view suffix = sample.substr(f.name.size());
  if (f.type == "summary") return suffix == "_sum" || suffix == "_count";
  if (f.type == "histogram") {
    return suffix == "_bucket" || suffix == "_sum" || suffix == "_count";
  }
  if (om && f.type == "counter") return suffix == "_total";
  return false;
}

// Go's ParseFloat (what Prometheus reads values with) accepts more
// spellings; these are the ones the format documents and the serializer
// writes.
bool ParseValue(std::string_view token, double* out) {
  if (token == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (token == "+Inf" || token == "-Inf") {
    *out = token[0] == '+' ? std::numeric_limits<double>::infinity()
                           : -std::numeric_limits<double>::infinity();
    return true;
  }
  // [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?
  std::size_t i = 0;
  if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
  std::size_t digits = 0;
  while (i < token.size() && IsDigit(token[i])) ++i, ++digits;
  if (i < token.size() && token[i] == '.') {
    ++i;
    while (i < token.size() && IsDigit(token[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    const std::size_t exponent = i;
    while (i < token.size() && IsDigit(token[i])) ++i;
    if (i == exponent) return false;
  }
  if (i != token.size()) return false;
  // from_chars takes no '+'; a '-' it reads itself.
  const std::size_t start = token[0] == '+' ? 1 : 0;
  const auto r =
      std::from_chars(token.data() + start, token.data() + token.size(), *out,
                      std::chars_format::general);
  return r.ec == std::errc() && r.ptr == token.data() + token.size();
}

bool ParseTimestamp(std::string_view token) {
  std::int64_t t = 0;
  const auto r = std::from_chars(token.data(), token.data() + token.size(), t);
  return !token.empty() && r.ec == std::errc() &&
         r.ptr == token.data() + token.size();
}

// Length of the metric-name-like token at the start of s.
std::size_t NameLength(std::string_view s, bool allow_colon) {
  std::size_t n = 0;
  while (n < s.size() && (IsAlpha(s[n]) || IsDigit(s[n]) || s[n] == '_' ||
                          (allow_colon && s[n] == ':'))) {
    ++n;
  }
  return n;
}

class Parser {
 public:
  Parser(Exposition* out, bool om) : out_(out), om_(om) {}

  bool Line(std::size_t line_no, std::string_view line, std::string* error) {
    line_no_ = line_no;
    error_ = error;
    if (eof_) return Fail("a line after # EOF");
    if (line.empty()) return Fail("empty line");
    if (om_ && line == "# EOF") {
      eof_ = true;
      return true;
    }
    // "# HELP ..." and "# TYPE ..." are directives; "# HELPER" is a
    // comment, but a bare "# HELP" is a directive without its name.
    for (const std::string_view d : {"# HELP", "# TYPE", "# UNIT"}) {
      if (!om_ && d == "# UNIT") continue;
      if (line == d || line.starts_with(std::string(d) + " ")) {
        return Directive(line);
      }
    }
    if (line[0] == '#') {
      // OpenMetrics has no comments.
      if (om_) return Fail("a '#' line that is no HELP, TYPE, UNIT or EOF");
      ++out_->comments;
      return true;
    }
    return Sample(line);
  }

  bool eof() const { return eof_; }

 private:
  bool Fail(const std::string& what) {
    *error_ = "line " + std::to_string(line_no_) + ": " + what;
    return false;
  }

  // Claims name for family index f; fails if another family has it.
  bool Claim(const std::string& name, std::size_t f) {
    const auto [it, inserted] = owner_.emplace(name, f);
    if (inserted || it->second == f) return true;
    return Fail("name '" + name + "' already belongs to family '" +
                out_->families[it->second].name + "'");
  }

  bool Directive(std::string_view line) {
    const bool help = line.starts_with("# HELP");
    const bool unit = line.starts_with("# UNIT");
    const char* kind = help ? "HELP" : unit ? "UNIT" : "TYPE";
    std::string_view rest = line.substr(6);
    if (!rest.starts_with(' ')) {
      return Fail(std::string(kind) + " without a space and a metric name");
    }
    rest.remove_prefix(1);
    const std::size_t n = NameLength(rest, true);
    const std::string name(rest.substr(0, n));
    if (!IsStrictMetricName(name)) {
      return Fail(std::string(kind) + " for invalid metric name '" +
                  std::string(rest.substr(0, n + 1)) + "'");
    }
    rest.remove_prefix(n);
    if (!rest.empty() && rest[0] != ' ') {
      return Fail(std::string(kind) + ": metric name followed by '" +
                  std::string(rest.substr(0, 1)) + "', not a space");
    }
    if (!rest.empty()) rest.remove_prefix(1);

    std::size_t f = 0;
    const auto it = owner_.find(name);
    if (it == owner_.end()) {
      f = out_->families.size();
      ParsedFamily family;
      family.name = name;
      family.type = om_ ? "unknown" : "untyped";
      out_->families.push_back(std::move(family));
      owner_.emplace(name, f);
      current_ = f;
      has_current_ = true;
    } else {
      f = it->second;
      if (out_->families[f].name != name) {
        return Fail(std::string(kind) + " for '" + name +
                    "', a name of family '" + out_->families[f].name + "'");
      }
      if (!has_current_ || current_ != f) {
        return Fail(std::string(kind) + " for '" + name +
                    "' after other families: the family is split");
      }
    }
    ParsedFamily& family = out_->families[f];
    if (!family.samples.empty()) {
      return Fail(std::string(kind) + " for '" + name + "' after its samples");
    }
    if (help) {
      if (family.has_help) return Fail("second HELP for '" + name + "'");
      family.has_help = true;
      family.help_first = !family.has_type;
      return Unescape(rest, false, &family.help);
    }
    if (unit) {
      // OpenMetrics: the family name ends in "_<unit>".
      if (family.has_unit) return Fail("second UNIT for '" + name + "'");
      if (rest.empty() || NameLength(rest, false) != rest.size() ||
          !name.ends_with("_" + std::string(rest)) ||
          name.size() == rest.size() + 1) {
        return Fail("UNIT '" + std::string(rest) + "' of '" + name +
                    "' is not a suffix of the name");
      }
      family.has_unit = true;
      family.unit = std::string(rest);
      return true;
    }
    if (family.has_type) return Fail("second TYPE for '" + name + "'");
    if (!IsKnownType(rest, om_)) {
      return Fail("TYPE of '" + name + "' is '" + std::string(rest) +
                  "', not a known type");
    }
    family.has_type = true;
    family.type = std::string(rest);
    for (const std::string& extra : SuffixedNames(name, family.type, om_)) {
      if (!Claim(extra, f)) return false;
    }
    return true;
  }

  // Unescapes HELP text (label=false: \\ and \n) or a label value up to its
  // closing quote (label=true: also \"), consuming it from the front of
  // *text for labels.
  bool Unescape(std::string_view text, bool label, std::string* out,
                std::size_t* consumed = nullptr) {
    out->clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (label && c == '"') {
        *consumed = i + 1;
        return true;
      }
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i + 1 == text.size()) return Fail("backslash at end of line");
      const char e = text[++i];
      if (e == '\\') {
        out->push_back('\\');
      } else if (e == 'n') {
        out->push_back('\n');
      } else if ((label || om_) && e == '"') {
        out->push_back('"');
      } else {
        return Fail(std::string("invalid escape '\\") + e + "' in " +
                    (label ? "a label value" : "HELP text"));
      }
    }
    if (label) return Fail("label value without its closing quote");
    return true;
  }

  bool Sample(std::string_view line) {
    ParsedSample s;
    const std::size_t n = NameLength(line, true);
    s.name = std::string(line.substr(0, n));
    if (!IsStrictMetricName(s.name)) {
      return Fail("sample with invalid metric name '" +
                  std::string(line.substr(0, n + 1)) + "'");
    }
    std::string_view rest = line.substr(n);
    if (rest.starts_with('{') && !Labels(&rest, &s)) return false;
    if (!rest.starts_with(' ')) {
      return Fail("sample '" + s.name + "' not followed by one space");
    }
    rest.remove_prefix(1);
    const std::size_t space = rest.find(' ');
    const std::string_view value = rest.substr(0, space);
    if (!ParseValue(value, &s.value)) {
      return Fail("value '" + std::string(value) + "' of '" + s.name +
                  "' is not a float");
    }
    if (space != std::string_view::npos) {
      const std::string_view ts = rest.substr(space + 1);
      if (!ParseTimestamp(ts)) {
        return Fail("'" + std::string(ts) + "' after the value of '" + s.name +
                    "' is not an integer timestamp");
      }
      s.has_timestamp = true;
    }

    // The family: the current one if the name fits it, else a new untyped
    // one named after the sample.
    std::size_t f = 0;
    if (has_current_ && BelongsTo(out_->families[current_], s.name, om_)) {
      f = current_;
    } else {
      if (const auto it = owner_.find(s.name); it != owner_.end()) {
        return Fail("sample '" + s.name + "' of family '" +
                    out_->families[it->second].name +
                    "' outside that family's lines");
      }
      f = out_->families.size();
      if (om_) {
        // OpenMetrics: every family is introduced by its metadata here.
        return Fail("sample '" + s.name + "' outside any family's lines");
      }
      ParsedFamily family;
      family.name = s.name;
      family.type = "untyped";
      out_->families.push_back(std::move(family));
      current_ = f;
      has_current_ = true;
    }
    if (!Claim(s.name, f)) return false;

    // The series key: the name and the label pairs sorted by name, each
    // length-prefixed so that no two different sets encode alike.
    std::vector<std::pair<std::string, std::string>> sorted = s.labels;
    std::sort(sorted.begin(), sorted.end());
    std::string key = std::to_string(s.name.size()) + ":" + s.name;
    for (const auto& [k, v] : sorted) {
      key += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) +
             ":" + v;
    }
    if (!series_.insert(std::move(key)).second) {
      return Fail("series '" + s.name + "' with the same labels twice");
    }
    out_->families[f].samples.push_back(std::move(s));
    return true;
  }

  bool Labels(std::string_view* rest, ParsedSample* s) {
    rest->remove_prefix(1);  // '{'
    if (rest->starts_with('}')) {
      rest->remove_prefix(1);
      return true;
    }
    for (;;) {
      const std::size_t n = NameLength(*rest, false);
      const std::string name(rest->substr(0, n));
      if (!IsStrictLabelName(name)) {
        return Fail("invalid label name '" +
                    std::string(rest->substr(0, n + 1)) + "' in '" + s->name +
                    "'");
      }
      rest->remove_prefix(n);
      if (!rest->starts_with("=\"")) {
        return Fail("label '" + name + "' of '" + s->name +
                    "' not followed by =\"");
      }
      rest->remove_prefix(2);
      std::string value;
      std::size_t consumed = 0;
      if (!Unescape(*rest, true, &value, &consumed)) return false;
      rest->remove_prefix(consumed);
      for (const auto& l : s->labels) {
        if (l.first == name) {
          return Fail("label '" + name + "' twice in '" + s->name + "'");
        }
      }
      s->labels.emplace_back(name, std::move(value));
      if (rest->starts_with('}')) {
        rest->remove_prefix(1);
        return true;
      }
      if (!rest->starts_with(',') || rest->starts_with(",}")) {
        return Fail("label value in '" + s->name +
                    "' not followed by ',<label>' or '}'");
      }
      rest->remove_prefix(1);
    }
  }

  Exposition* out_;
  bool om_;
  bool eof_ = false;
  std::string* error_ = nullptr;
  std::size_t line_no_ = 0;
  std::size_t current_ = 0;
  bool has_current_ = false;
  std::map<std::string, std::size_t> owner_;  // name -> family index
  std::set<std::string> series_;
};

}  // namespace

bool IsStrictMetricName(std::string_view name) {
  if (name.empty() || IsDigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '_' || c == ':';
  });
}

bool IsStrictLabelName(std::string_view name) {
  if (name.empty() || IsDigit(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '_';
  });
}

bool IsStrictUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07, min = 0x10000;
    } else {
      return false;  // a continuation byte or 0xF8..0xFF
    }
    if (text.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

namespace {

bool Parse(std::string_view text, bool om, Exposition* out,
           std::string* error) {
  *out = Exposition{};
  if (!IsStrictUtf8(text)) {
    // Name the line for the reader; the check itself is over the whole text.
    std::size_t line_no = 1;
    std::size_t start = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string_view::npos;
         nl = text.find('\n', start)) {
      if (!IsStrictUtf8(text.substr(start, nl - start))) break;
      start = nl + 1;
      ++line_no;
    }
    *error = "line " + std::to_string(line_no) + ": not valid UTF-8";
    return false;
  }
  if (!text.empty() && !text.ends_with('\n')) {
    *error = "line 0: the last line does not end in a newline";
    return false;
  }
  Parser parser(out, om);
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    if (!parser.Line(++line_no, text.substr(0, nl), error)) return false;
    text.remove_prefix(nl + 1);
  }
  if (om && !parser.eof()) {
    *error = "line 0: no # EOF at the end";
    return false;
  }
  return true;
}

}  // namespace

bool StrictParse(std::string_view text, Exposition* out, std::string* error) {
  return Parse(text, /*om=*/false, out, error);
}

bool StrictParseOpenMetrics(std::string_view text, Exposition* out,
                            std::string* error) {
  return Parse(text, /*om=*/true, out, error);
}

}  // namespace sysmetrics::fuzz
