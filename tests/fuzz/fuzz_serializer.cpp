// Fuzz target for the exposition path: plugin calls -> MetricSet -> text
// 0.0.4 and OpenMetrics 1.0.
//
// The input is a program of plugin calls (serializer_input.hpp) made
// through the host API a real plugin gets (HostApi(): begin_family and
// emit_sample, with the host's own checks of what a C plugin hands over),
// into the MetricSet of one collect. At the end of each collect the set is
// rendered the way Exporter::Scrape renders a collector's families
// (AppendFamilyText, leaving out families whose names clash) and:
//  - the text must pass StrictParse (strict_parse.hpp), the format's rules;
//  - the OpenMetrics rendering of the same families must pass
//    StrictParseOpenMetrics and hold the same families, help, units,
//    samples, labels and values, under OpenMetrics' names (a counter
//    family without "_total", its samples with it; "unknown" for untyped);
//  - the host must have accepted exactly the calls the plugin contract
//    (plugin.h, metric_set.hpp) allows, judged by a model built here from
//    the calls, not by MetricSet;
//  - every accepted sample must be in the text, in order, with its labels
//    (values UTF-8-repaired) and its value (same bits, or both NaN); a
//    repeat of an earlier series of its family is refused (SM_ERR_INVALID)
//    and nowhere; nothing else is.
// The session's plugin counts as shipped, so any valid name is its own
// (name ownership has its own tests: core/scrape/name_ownership_test.cpp).
// The log lines the host writes about refused calls carry plugin text, so
// each string of the input is also rendered as a log line, which must stay
// one line of valid UTF-8.
#include <sysmetrics/plugin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"
#include "scrape/collector.hpp"
#include "scrape/metric_set.hpp"
#include "scrape/text_format.hpp"
#include "serializer_input.hpp"
#include "strict_parse.hpp"
#include "util/log.hpp"

namespace sysmetrics::fuzz {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct ExpectedSample {
  std::string suffix;
  Labels labels;  // values as the host stores them: UTF-8-repaired
  double value = 0;
};

struct ExpectedFamily {
  std::string name;
  std::string help;  // UTF-8-repaired
  std::string unit;
  MetricType type = MetricType::kUntyped;
  std::vector<ExpectedSample> samples;  // every accepted one, in order
};

std::string Repaired(std::string_view s) {
  std::string out;
  AppendRepairedUtf8(out, s);
  FUZZ_CHECK(IsStrictUtf8(out), "repaired text is not UTF-8");
  FUZZ_CHECK(!IsStrictUtf8(s) || out == s, "valid UTF-8 was changed");
  return out;
}

bool SuffixFits(MetricType type, std::string_view suffix) {
  switch (type) {
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count";
    case MetricType::kSummary:
      return suffix.empty() || suffix == "_sum" || suffix == "_count";
    default:
      return suffix.empty();
  }
}

// plugin.h: "If set, the name must end in "_<unit>" (before any _total)".
bool UnitFits(std::string_view name, MetricType type, std::string_view unit) {
  if (unit.empty()) return true;
  if (type == MetricType::kCounter && name.ends_with("_total")) {
    name.remove_suffix(6);
  }
  const std::string tail = "_" + std::string(unit);
  return IsStrictMetricName(unit) && name.size() > tail.size() &&
         name.ends_with(tail);
}

std::string TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

bool SameSeries(const ExpectedSample& a, const ExpectedSample& b) {
  if (a.suffix != b.suffix) return false;
  Labels x = a.labels;
  Labels y = b.labels;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

bool SameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

std::string Show(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Exporter::Scrape drops a family that uses a name (its own, or for a
// histogram or summary a suffixed one, or for a counter its other
// OpenMetrics name) an earlier family uses; the same rule here, so the
// text has what a scrape would have.
std::vector<bool> KeptFamilies(const std::vector<ExpectedFamily>& families) {
  std::vector<bool> kept(families.size(), true);
  std::set<std::string> used;
  for (std::size_t i = 0; i < families.size(); ++i) {
    std::vector<std::string> names = {families[i].name};
    if (families[i].type == MetricType::kHistogram) {
      names.push_back(families[i].name + "_bucket");
    }
    if (families[i].type == MetricType::kHistogram ||
        families[i].type == MetricType::kSummary) {
      names.push_back(families[i].name + "_sum");
      names.push_back(families[i].name + "_count");
    }
    if (families[i].type == MetricType::kCounter) {
      const std::string& n = families[i].name;
      names.push_back(n.ends_with("_total") ? n.substr(0, n.size() - 6)
                                            : n + "_total");
    }
    for (const std::string& n : names) {
      if (!used.insert(n).second) kept[i] = false;
    }
  }
  return kept;
}

// A log line the host writes about plugin text must stay one line of valid
// UTF-8 (log.hpp: "text from plugins or clients cannot forge lines").
void CheckLogLine(std::string_view text) {
  for (const LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    std::string line;
    RenderLogLine(line, format, text, {{"reason", text}, {text, "x"}});
    FUZZ_CHECK(IsStrictUtf8(line), "log line is not UTF-8: " + Show(line));
    for (const char c : line) {
      const auto u = static_cast<unsigned char>(c);
      FUZZ_CHECK(u >= 0x20 && u != 0x7f,
                 "log line holds a control character: " + Show(line));
    }
  }
}

class Session {
 public:
  explicit Session(std::size_t sample_limit) : sample_limit_(sample_limit) {
    host_.plugin_name = "fuzz";
    host_.shipped = true;
    emitter_.host = &host_;
    emitter_.set = &set_;
    set_.set_sample_limit(sample_limit);
  }

  void Family(InputReader& in) {
    std::uint8_t flags = in.Byte();
    if ((flags & kFlagMalformed) == 0) flags &= kFlagNullHelp | kFlagNullUnit;
    const std::string name = in.String(kNameDict);
    const std::string help = in.String(kTextDict);
    // 0..7: the five types and three values past the last.
    const int type = in.Byte() % 8;
    const std::string unit = in.String(kUnitDict);
    Remember(name);
    Remember(help);

    sm_family f{};
    f.struct_size = (flags & kFlagShortStruct) != 0
                        ? static_cast<std::uint32_t>(offsetof(sm_family, unit))
                        : static_cast<std::uint32_t>(sizeof f);
    f.name = (flags & kFlagNullName) != 0 ? nullptr : name.c_str();
    f.help = (flags & kFlagNullHelp) != 0 ? nullptr : help.c_str();
    f.type = static_cast<sm_metric_type>(type);
    f.unit = (flags & kFlagNullUnit) != 0 ? nullptr : unit.c_str();
    const std::string_view real_unit =
        f.unit != nullptr ? std::string_view(unit) : std::string_view();

    const auto t = static_cast<MetricType>(type);
    // In the order the host checks: past the limit everything is refused
    // as over it; then the shape of the call; then the name and unit; then
    // the family limit (families count against the sample limit too); then
    // a name used twice.
    const bool shaped = (flags & (kFlagShortStruct | kFlagNullName)) == 0 &&
                        type <= SM_METRIC_SUMMARY && IsStrictMetricName(name) &&
                        UnitFits(name, t, real_unit);
    sm_status want = SM_OK;
    if (limit_hit_) {
      want = SM_ERR_LIMIT;
    } else if (!shaped) {
      want = SM_ERR_INVALID;
    } else if (sample_limit_ != 0 && families_.size() >= sample_limit_) {
      want = SM_ERR_LIMIT;
      limit_hit_ = true;
    } else if (std::any_of(
                   families_.begin(), families_.end(),
                   [&](const ExpectedFamily& e) { return e.name == name; })) {
      want = SM_ERR_INVALID;
    }
    const bool valid = want == SM_OK;
    const sm_status st = HostApi().begin_family(&emitter_, &f);
    FUZZ_CHECK(st == want,
               "begin_family(" + Show(name) + ", type " + std::to_string(type) +
                   ", unit " + Show(real_unit) + ", flags " +
                   std::to_string(flags) + ") returned " + std::to_string(st) +
                   ", want " + std::to_string(want));
    open_ = valid;
    if (valid) {
      families_.push_back(
          ExpectedFamily{name,
                         Repaired(f.help != nullptr ? help : ""),
                         std::string(real_unit),
                         t,
                         {}});
    }
  }

  void Sample(InputReader& in) {
    std::uint8_t flags = in.Byte();
    if ((flags & kFlagMalformed) == 0) flags &= kFlagNullSuffix;
    const std::string suffix = in.String(kSuffixDict);
    const std::size_t n = in.Byte() % (kMaxLabels + 1);
    std::vector<std::string> names(n);
    std::vector<std::string> values(n);
    for (std::size_t i = 0; i < n; ++i) {
      names[i] = in.String(kLabelNameDict);
      values[i] = in.String(kLabelValueDict);
      Remember(values[i]);
    }
    const double value = in.Value();

    std::vector<sm_label> labels(n);
    for (std::size_t i = 0; i < n; ++i) {
      labels[i].name = names[i].c_str();
      labels[i].value = values[i].c_str();
    }
    if (n != 0 && (flags & kFlagNullName) != 0) labels[0].name = nullptr;
    if (n != 0 && (flags & kFlagNullValue) != 0) labels[n - 1].value = nullptr;
    sm_sample s{};
    s.struct_size = (flags & kFlagShortStruct) != 0
                        ? static_cast<std::uint32_t>(offsetof(sm_sample, value))
                        : static_cast<std::uint32_t>(sizeof s);
    s.suffix = (flags & kFlagNullSuffix) != 0 ? nullptr : suffix.c_str();
    s.labels = (flags & kFlagNullLabels) != 0 ? nullptr : labels.data();
    s.n_labels = static_cast<std::uint32_t>(n);
    s.value = value;
    const std::string_view real_suffix =
        s.suffix != nullptr ? std::string_view(suffix) : std::string_view();

    bool names_ok = true;
    for (std::size_t i = 0; i < n; ++i) {
      names_ok = names_ok && IsStrictLabelName(names[i]) &&
                 std::find(names.begin(), names.begin() + static_cast<long>(i),
                           names[i]) == names.begin() + static_cast<long>(i);
    }
    const bool malformed =
        (flags & kFlagShortStruct) != 0 ||
        (n != 0 &&
         (flags & (kFlagNullLabels | kFlagNullName | kFlagNullValue)) != 0);
    ExpectedSample e;
    e.suffix = std::string(real_suffix);
    for (std::size_t i = 0; i < n; ++i) {
      e.labels.emplace_back(names[i], Repaired(values[i]));
    }
    e.value = value;
    const sm_status want = Expected(malformed, real_suffix, names_ok, e);
    limit_hit_ = limit_hit_ || want == SM_ERR_LIMIT;
    const sm_status st = HostApi().emit_sample(&emitter_, &s);
    FUZZ_CHECK(st == want, "emit_sample(suffix " + Show(real_suffix) + ", " +
                               std::to_string(n) + " labels, flags " +
                               std::to_string(flags) + ") returned " +
                               std::to_string(st) + ", want " +
                               std::to_string(want));
    if (st != SM_OK) return;
    ++accepted_;
    families_.back().samples.push_back(std::move(e));
  }

  // Ends the collect the way Collector::Execute does, checks the set and
  // its text, and clears both for the next collect (a collector's set is
  // reused from scrape to scrape).
  void EndCollect() {
    set_.Finish();
    CheckSet();
    CheckText();
    for (const std::string& s : remembered_) CheckLogLine(s);
    set_.Clear();
    families_.clear();
    remembered_.clear();
    open_ = false;
    limit_hit_ = false;
    accepted_ = 0;
  }

 private:
  // What emit_sample must return, in the order the host checks.
  sm_status Expected(bool malformed, std::string_view suffix, bool names_ok,
                     const ExpectedSample& sample) const {
    if (malformed) return SM_ERR_INVALID;
    // Once the limit is reached every sample is refused as over it, as
    // plugin.h says, whatever else is wrong with it.
    if (limit_hit_) return SM_ERR_LIMIT;
    if (!open_) return SM_ERR_INVALID;
    if (sample_limit_ != 0 && accepted_ >= sample_limit_) return SM_ERR_LIMIT;
    if (!SuffixFits(families_.back().type, suffix) || !names_ok) {
      return SM_ERR_INVALID;
    }
    const auto& earlier = families_.back().samples;
    if (std::any_of(
            earlier.begin(), earlier.end(),
            [&](const ExpectedSample& x) { return SameSeries(x, sample); })) {
      return SM_ERR_INVALID;
    }
    return SM_OK;
  }

  void Remember(const std::string& s) {
    if (remembered_.size() < 8) remembered_.push_back(s);
  }

  // The MetricSet holds what the model holds.
  void CheckSet() {
    const auto& fams = set_.families();
    FUZZ_CHECK(fams.size() == families_.size(),
               "MetricSet has " + std::to_string(fams.size()) +
                   " families, the calls accepted " +
                   std::to_string(families_.size()));
    for (std::size_t i = 0; i < fams.size(); ++i) {
      const MetricSet::Family& f = fams[i];
      const ExpectedFamily& e = families_[i];
      FUZZ_CHECK(set_.str(f.name) == e.name && f.type == e.type &&
                     set_.str(f.help) == e.help,
                 "family " + std::to_string(i) + " is not " + Show(e.name));
      FUZZ_CHECK(f.sample_count == e.samples.size(),
                 "family " + Show(e.name) + " holds " +
                     std::to_string(f.sample_count) + " samples, want " +
                     std::to_string(e.samples.size()));
    }
  }

  void CheckText() {
    const std::vector<bool> kept = KeptFamilies(families_);
    std::string text;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (kept[i]) AppendFamilyText(text, set_, set_.families()[i]);
    }
    if (std::all_of(kept.begin(), kept.end(), [](bool k) { return k; })) {
      std::string whole;
      AppendSetText(whole, set_);
      FUZZ_CHECK(whole == text, "AppendSetText differs from its families");
    }

    Exposition parsed;
    std::string error;
    FUZZ_CHECK(StrictParse(text, &parsed, &error),
               error + "\n--- exposition:\n" + text + "--- end");
    FUZZ_CHECK(parsed.comments == 0, "comment lines in the exposition");

    std::size_t next = 0;  // index into parsed.families
    for (std::size_t i = 0; i < families_.size(); ++i) {
      const ExpectedFamily& e = families_[i];
      std::vector<const ExpectedSample*> want;
      for (const ExpectedSample& sample : e.samples) want.push_back(&sample);
      if (!kept[i] || want.empty()) continue;  // left out: not in the text
      FUZZ_CHECK(next < parsed.families.size(),
                 "family " + Show(e.name) + " missing from:\n" + text);
      const ParsedFamily& p = parsed.families[next++];
      FUZZ_CHECK(p.name == e.name, "family " + Show(p.name) + " where " +
                                       Show(e.name) + " belongs:\n" + text);
      FUZZ_CHECK(p.has_help && p.has_type && p.help_first,
                 "family " + Show(e.name) + " lacks HELP then TYPE");
      FUZZ_CHECK(p.help == e.help, "HELP of " + Show(e.name) + " reads back " +
                                       Show(p.help) + ", want " + Show(e.help));
      FUZZ_CHECK(p.type == TypeName(e.type),
                 "TYPE of " + Show(e.name) + " is " + p.type);
      FUZZ_CHECK(p.samples.size() == want.size(),
                 "family " + Show(e.name) + " has " +
                     std::to_string(p.samples.size()) + " samples, want " +
                     std::to_string(want.size()) + ":\n" + text);
      for (std::size_t k = 0; k < want.size(); ++k) {
        const ParsedSample& ps = p.samples[k];
        const ExpectedSample& es = *want[k];
        FUZZ_CHECK(ps.name == e.name + es.suffix,
                   "sample " + Show(ps.name) + " where " +
                       Show(e.name + es.suffix) + " belongs");
        FUZZ_CHECK(ps.labels == es.labels,
                   "labels of sample " + std::to_string(k) + " of " +
                       Show(e.name) + " do not read back:\n" + text);
        FUZZ_CHECK(SameValue(ps.value, es.value),
                   "value of sample " + std::to_string(k) + " of " +
                       Show(e.name) + " does not read back:\n" + text);
        FUZZ_CHECK(!ps.has_timestamp, "a timestamp appeared");
      }
    }
    FUZZ_CHECK(next == parsed.families.size(),
               "the exposition has families no call made:\n" + text);
    CheckOpenMetrics(kept, parsed);
  }

  // The OpenMetrics rendering of the kept families against the text one
  // (already checked against the calls): the same content, OpenMetrics'
  // names.
  void CheckOpenMetrics(const std::vector<bool>& kept,
                        const Exposition& text_parsed) {
    std::string om;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (kept[i]) AppendFamilyOpenMetrics(om, set_, set_.families()[i]);
    }
    if (std::all_of(kept.begin(), kept.end(), [](bool k) { return k; })) {
      std::string whole;
      AppendSetOpenMetrics(whole, set_);
      FUZZ_CHECK(whole == om, "AppendSetOpenMetrics differs from its families");
    }
    om.append(kOpenMetricsEof);
    Exposition parsed;
    std::string error;
    FUZZ_CHECK(StrictParseOpenMetrics(om, &parsed, &error),
               error + "\n--- OpenMetrics exposition:\n" + om + "--- end");
    FUZZ_CHECK(parsed.families.size() == text_parsed.families.size(),
               "OpenMetrics has " + std::to_string(parsed.families.size()) +
                   " families, the text " +
                   std::to_string(text_parsed.families.size()) + ":\n" + om);
    // The expected unit of each kept family, by name.
    std::vector<std::pair<std::string, std::string>> units;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (kept[i]) units.emplace_back(families_[i].name, families_[i].unit);
    }
    for (std::size_t i = 0; i < parsed.families.size(); ++i) {
      const ParsedFamily& t = text_parsed.families[i];
      const ParsedFamily& o = parsed.families[i];
      const bool counter = t.type == "counter";
      const std::string base = counter && t.name.ends_with("_total")
                                   ? t.name.substr(0, t.name.size() - 6)
                                   : t.name;
      FUZZ_CHECK(o.name == base,
                 "OpenMetrics family " + Show(o.name) + " for " + Show(t.name));
      FUZZ_CHECK(o.type == (t.type == "untyped" ? "unknown" : t.type),
                 "OpenMetrics TYPE of " + Show(o.name) + " is " + o.type);
      FUZZ_CHECK(o.has_help && o.help == t.help,
                 "OpenMetrics HELP of " + Show(o.name) + " reads back " +
                     Show(o.help) + ", want " + Show(t.help));
      const auto u =
          std::find_if(units.begin(), units.end(),
                       [&](const auto& p) { return p.first == t.name; });
      FUZZ_CHECK(u != units.end(), "no expected family " + Show(t.name));
      FUZZ_CHECK(o.has_unit == !u->second.empty() && o.unit == u->second,
                 "OpenMetrics UNIT of " + Show(o.name) + " is " + Show(o.unit) +
                     ", want " + Show(u->second));
      FUZZ_CHECK(o.samples.size() == t.samples.size(),
                 "OpenMetrics family " + Show(o.name) + " has " +
                     std::to_string(o.samples.size()) + " samples, want " +
                     std::to_string(t.samples.size()));
      for (std::size_t k = 0; k < o.samples.size(); ++k) {
        const ParsedSample& os = o.samples[k];
        const ParsedSample& ts = t.samples[k];
        FUZZ_CHECK(
            os.name == (counter ? base + "_total" : ts.name),
            "OpenMetrics sample " + Show(os.name) + " for " + Show(ts.name));
        FUZZ_CHECK(os.labels == ts.labels && SameValue(os.value, ts.value) &&
                       !os.has_timestamp,
                   "OpenMetrics sample " + std::to_string(k) + " of " +
                       Show(o.name) + " differs from the text one:\n" + om);
      }
    }
  }

  std::size_t sample_limit_;
  sm_host host_;
  sm_emitter emitter_;
  MetricSet set_;
  std::vector<ExpectedFamily> families_;
  bool open_ = false;       // the last begin_family was accepted
  bool limit_hit_ = false;  // a call was refused for the limit
  std::size_t accepted_ = 0;
  std::vector<std::string> remembered_;
};

// The log sink for the refused calls: the lines are rendered (their
// escaping is under test too) and thrown away.
std::ostream& NullStream() {
  static std::ostream stream(nullptr);
  return stream;
}

void SetUpLogging(std::uint8_t bits) {
  static int installed = -1;
  if (installed == bits % 4) return;
  installed = bits % 4;
  InitLoggingToStream(NullStream(),
                      (bits & 1) != 0 ? LogFormat::kJson : LogFormat::kText,
                      (bits & 2) != 0 ? LogLevel::kDebug : LogLevel::kOff);
}

}  // namespace
}  // namespace sysmetrics::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace fz = sysmetrics::fuzz;
  fz::InputReader in({data, size});
  const std::uint8_t limit = in.Byte();
  fz::SetUpLogging(in.Byte());
  fz::Session session(limit);
  while (!in.empty()) {
    switch (in.Byte() % fz::kOpCount) {
      case fz::kOpFamily:
        session.Family(in);
        break;
      case fz::kOpSample:
        session.Sample(in);
        break;
      default:
        session.EndCollect();
        break;
    }
  }
  session.EndCollect();
  return 0;
}
