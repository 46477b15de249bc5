// Self-test of the strict parser, run by run.sh before any fuzzing: an
// oracle that accepts everything would let every serializer bug through
// unseen, so each rule is shown to reject a hand-made violation of it (for
// the right reason), and real expositions given as arguments (the golden
// files) are shown to pass.
//
// Usage: strict_parse_test [file.prom|file.om.txt...]; exits 1 on any
// failed case.
#include "strict_parse.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace sysmetrics::fuzz {
namespace {

struct BadCase {
  const char* text;
  const char* reason;  // a part of the error the rule must give
};

// One violation per case, each of one rule of strict_parse.hpp.
constexpr BadCase kBad[] = {
    {"a 1", "does not end in a newline"},
    {"a 1\n\n", "empty line"},
    {" a 1\n", "invalid metric name"},
    {"a{l=\"\xff\"} 1\n", "not valid UTF-8"},
    {"a{l=\"\xed\xa0\x80\"} 1\n", "not valid UTF-8"},  // a surrogate
    {"a{l=\"\xc0\x80\"} 1\n", "not valid UTF-8"},      // overlong NUL
    {"# HELP a x\\ty\n", "invalid escape"},
    {"# HELP a x\\\n", "backslash at end"},
    {"# HELP a x\\\"y\n", "invalid escape"},  // \" only in label values
    {"a{l=\"x\\ty\"} 1\n", "invalid escape"},
    {"a{l=\"x} 1\n", "closing quote"},
    {"a{l=\"x\"y\"} 1\n", "not followed by"},
    {"# TYPE a gaugee\n", "not a known type"},
    {"# TYPE a\n", "not a known type"},
    {"# TYPE a unknown\n", "not a known type"},  // OpenMetrics' word
    {"# HELP\n", "without a space"},
    {"# HELP 0a x\n", "invalid metric name"},
    {"# HELP a x\n# HELP a y\n", "second HELP"},
    {"# TYPE a gauge\n# TYPE a counter\n", "second TYPE"},
    {"# HELP a x\na 1\n# TYPE a gauge\n", "after its samples"},
    {"0a 1\n", "invalid metric name"},
    {"a-b 1\n", "not followed by one space"},
    {"a{__x=\"1\"} 1\n", "invalid label name"},
    {"a{0=\"1\"} 1\n", "invalid label name"},
    {"a{l:x=\"1\"} 1\n", "not followed by =\""},
    {"a{l=\"1\",l=\"2\"} 1\n", "twice in"},
    {"a{l=\"1\",} 1\n", "not followed by ',<label>'"},
    {"a{l=\"1\",m=\"2\"} 1\na{m=\"2\",l=\"1\"} 2\n", "same labels twice"},
    {"a 1\na 2\n", "same labels twice"},
    {"a 1\nb 1\na 2\n", "outside that family's lines"},
    {"# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# HELP a x\n", "split"},
    {"# TYPE a summary\na_sum 1\n# TYPE a_sum gauge\n", "a name of family"},
    {"# TYPE a_sum gauge\na_sum 1\n# TYPE a summary\n", "already belongs"},
    {"# TYPE a histogram\na 1\n", "outside that family"},
    {"a 1,5\n", "is not a float"},
    {"a one\n", "is not a float"},
    {"a inf\n", "is not a float"},
    {"a Inf\n", "is not a float"},
    {"a nan\n", "is not a float"},
    {"a 1e\n", "is not a float"},
    {"a .\n", "is not a float"},
    {"a 1e999\n", "is not a float"},
    {"a 1\r\n", "is not a float"},
    {"a  1\n", "is not a float"},
    {"a 1 x\n", "integer timestamp"},
    {"a 1 \n", "integer timestamp"},
};

// Each must parse; the check says what it must parse to.
struct GoodCase {
  const char* text;
  bool (*check)(const Exposition& e);
};

// The same for OpenMetrics (StrictParseOpenMetrics).
constexpr BadCase kBadOpenMetrics[] = {
    {"# TYPE a gauge\na 1\n", "no # EOF"},
    {"# TYPE a counter\na_created 1\n# EOF\n", "outside any family"},
    {"# EOF\na 1\n", "after # EOF"},
    {"# EOF\n# EOF\n", "after # EOF"},
    {"a 1\n# EOF\n", "outside any family"},
    {"# a comment\n# EOF\n", "no HELP, TYPE, UNIT or EOF"},
    {"# TYPE a untyped\n# EOF\n", "not a known type"},
    {"# TYPE a counter\na 1\n# EOF\n", "outside"},  // needs a_total
    {"# TYPE a counter\na_total 1\n# TYPE a_total gauge\n# EOF\n",
     "a name of family"},
    {"# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# EOF\n", "not a suffix"},
    {"# TYPE seconds gauge\n# UNIT seconds seconds\n# EOF\n", "not a suffix"},
    {"# TYPE a_s gauge\n# UNIT a_s s\n# UNIT a_s s\n# EOF\n", "second UNIT"},
    {"# TYPE a_s gauge\na_s 1\n# UNIT a_s s\n# EOF\n", "after its samples"},
    {"# HELP a x\\ty\n# EOF\n", "invalid escape"},
    {"# TYPE a gauge\na{l=\"1\",} 1\n# EOF\n", "not followed by ',<label>'"},
};

const GoodCase kGoodOpenMetrics[] = {
    {"# EOF\n", [](const Exposition& e) { return e.families.empty(); }},
    {"# HELP a_seconds x \\\"q\\\" \\\\\n# TYPE a_seconds counter\n"
     "# UNIT a_seconds seconds\na_seconds_total{l=\"v\"} 1\n"
     "a_seconds_total{l=\"w\"} 2\n# TYPE b unknown\nb NaN\n# EOF\n",
     [](const Exposition& e) {
       return e.families.size() == 2 && e.families[0].help == "x \"q\" \\" &&
              e.families[0].type == "counter" && e.families[0].has_unit &&
              e.families[0].unit == "seconds" &&
              e.families[0].samples.size() == 2 &&
              e.families[0].samples[0].name == "a_seconds_total" &&
              e.families[1].type == "unknown";
     }},
};

// Each must parse (StrictParse).
const GoodCase kGood[] = {
    {"", [](const Exposition& e) { return e.families.empty(); }},
    {"# HELP a x\\\\y\\nz \"q\"\n# TYPE a gauge\na 1\n",
     [](const Exposition& e) {
       return e.families.size() == 1 && e.families[0].help == "x\\y\nz \"q\"" &&
              e.families[0].help_first && e.families[0].type == "gauge";
     }},
    {"# HELP a \n# TYPE a counter\na 1\n",
     [](const Exposition& e) { return e.families[0].help.empty(); }},
    {"# TYPE a summary\na{quantile=\"0.5\"} 1\na_sum 2\na_count 3\n",
     [](const Exposition& e) {
       return e.families.size() == 1 && e.families[0].samples.size() == 3;
     }},
    {"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_sum 2\na_count 3\n",
     [](const Exposition& e) {
       return e.families.size() == 1 && e.families[0].samples.size() == 3;
     }},
    {"a{l=\"\\\\\\\"\\n\xc3\xa9\",m=\"\"} -Inf\n",
     [](const Exposition& e) {
       const ParsedSample& s = e.families[0].samples[0];
       return s.labels.size() == 2 && s.labels[0].second == "\\\"\n\xc3\xa9" &&
              s.labels[1].second.empty() && std::isinf(s.value) && s.value < 0;
     }},
    {"a NaN\nb +Inf\nc -0\nd 5e-324\ne 1e+21 1700000000000\n",
     [](const Exposition& e) {
       return e.families.size() == 5 &&
              std::isnan(e.families[0].samples[0].value) &&
              std::signbit(e.families[2].samples[0].value) &&
              e.families[3].samples[0].value > 0 &&
              e.families[4].samples[0].has_timestamp;
     }},
    {"# a comment\n#HELP is a comment too\n# HELPER also\na{} 1\n",
     [](const Exposition& e) {
       return e.comments == 3 && e.families[0].samples[0].labels.empty();
     }},
    {"# TYPE a gauge\n# HELP a x\na 1\n",
     [](const Exposition& e) {
       return e.families[0].has_help && !e.families[0].help_first;
     }},
    {"a_sum 1\na 2\n",  // untyped: two families
     [](const Exposition& e) { return e.families.size() == 2; }},
};

int failures = 0;

void Expect(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "strict_parse_test: FAIL: %s\n", what.c_str());
  ++failures;
}

}  // namespace
}  // namespace sysmetrics::fuzz

int main(int argc, char** argv) {
  namespace fz = sysmetrics::fuzz;
  int cases = 0;
  for (const fz::BadCase& c : fz::kBad) {
    fz::Exposition e;
    std::string error;
    const bool ok = fz::StrictParse(c.text, &e, &error);
    fz::Expect(!ok && error.find(c.reason) != std::string::npos,
               std::string("accepted or misjudged ") + c.text + " (" +
                   (ok ? "accepted" : error) + "; want '" + c.reason + "')");
    ++cases;
  }
  for (const fz::GoodCase& c : fz::kGood) {
    fz::Exposition e;
    std::string error;
    const bool ok = fz::StrictParse(c.text, &e, &error);
    fz::Expect(ok && c.check(e), std::string("rejected or misread ") + c.text +
                                     (ok ? "" : " (" + error + ")"));
    ++cases;
  }
  for (const fz::BadCase& c : fz::kBadOpenMetrics) {
    fz::Exposition e;
    std::string error;
    const bool ok = fz::StrictParseOpenMetrics(c.text, &e, &error);
    fz::Expect(!ok && error.find(c.reason) != std::string::npos,
               std::string("OpenMetrics: accepted or misjudged ") + c.text +
                   " (" + (ok ? "accepted" : error) + "; want '" + c.reason +
                   "')");
    ++cases;
  }
  for (const fz::GoodCase& c : fz::kGoodOpenMetrics) {
    fz::Exposition e;
    std::string error;
    const bool ok = fz::StrictParseOpenMetrics(c.text, &e, &error);
    fz::Expect(ok && c.check(e),
               std::string("OpenMetrics: rejected or misread ") + c.text +
                   (ok ? "" : " (" + error + ")"));
    ++cases;
  }
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    fz::Exposition e;
    std::string error;
    // Golden files named *.om.txt are OpenMetrics.
    const bool om = std::string_view(argv[i]).ends_with(".om.txt");
    const bool ok =
        in.good() && (om ? fz::StrictParseOpenMetrics(text.str(), &e, &error)
                         : fz::StrictParse(text.str(), &e, &error));
    fz::Expect(ok && !e.families.empty(),
               std::string("rejected ") + argv[i] + ": " + error);
    ++cases;
  }
  if (fz::failures != 0) {
    std::fprintf(stderr, "strict_parse_test: %d of %d cases failed\n",
                 fz::failures, cases);
    return 1;
  }
  std::printf("strict_parse_test: %d cases passed\n", cases);
  return 0;
}
