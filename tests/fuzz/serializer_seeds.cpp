// Seed generator for fuzz_serializer: writes programs of plugin calls
// (serializer_input.hpp) into a directory, from two sources:
//  - expositions given as arguments (the repository's golden files), read
//    with the strict parser and turned into the calls that produce them:
//    one seed for the whole file and one per family;
//  - hand-written programs for what the golden files never show: name
//    clashes, repeated series, text needing escapes or repair, special
//    values, more labels than the host keeps on the stack, the sample
//    limit, malformed calls, and a set reused for a second collect.
//
// Usage: fuzz_serializer_seeds OUT_DIR [file.prom...]
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serializer_input.hpp"
#include "strict_parse.hpp"

namespace sysmetrics::fuzz {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// sm_metric_type values.
constexpr std::uint8_t kCounter = 0;
constexpr std::uint8_t kGauge = 1;
constexpr std::uint8_t kUntyped = 2;
constexpr std::uint8_t kHistogram = 3;
constexpr std::uint8_t kSummary = 4;

class Program {
 public:
  explicit Program(std::uint8_t sample_limit = 0, std::uint8_t log = 0) {
    w_.Byte(sample_limit);
    w_.Byte(log);
  }

  Program& Family(std::string_view name, std::string_view help,
                  std::uint8_t type, std::string_view unit = "",
                  std::uint8_t flags = 0) {
    w_.Byte(kOpFamily);
    w_.Byte(flags);
    w_.String(name, kNameDict);
    w_.String(help, kTextDict);
    w_.Byte(type);
    w_.String(unit, kUnitDict);
    return *this;
  }

  Program& Sample(std::string_view suffix, const Labels& labels, double value,
                  std::uint8_t flags = 0) {
    w_.Byte(kOpSample);
    w_.Byte(flags);
    w_.String(suffix, kSuffixDict);
    w_.Byte(static_cast<std::uint8_t>(labels.size()));
    for (const auto& [name, v] : labels) {
      w_.String(name, kLabelNameDict);
      w_.String(v, kLabelValueDict);
    }
    w_.Value(value);
    return *this;
  }

  Program& Collect() {
    w_.Byte(kOpCollect);
    return *this;
  }

  const std::string& bytes() const { return w_.bytes(); }

 private:
  InputWriter w_;
};

std::uint8_t TypeByte(std::string_view type) {
  if (type == "counter") return kCounter;
  if (type == "gauge") return kGauge;
  if (type == "histogram") return kHistogram;
  if (type == "summary") return kSummary;
  return kUntyped;
}

void AddFamily(Program& p, const ParsedFamily& f) {
  p.Family(f.name, f.help, TypeByte(f.type));
  for (const ParsedSample& s : f.samples) {
    p.Sample(std::string_view(s.name).substr(f.name.size()), s.labels, s.value);
  }
}

std::vector<Program> FromExposition(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  Exposition e;
  std::string error;
  if (!in.good() || !StrictParse(text.str(), &e, &error)) {
    std::fprintf(stderr, "fuzz_serializer_seeds: %s: %s\n", path.c_str(),
                 error.c_str());
    return {};
  }
  std::vector<Program> out(1);
  for (const ParsedFamily& f : e.families) {
    AddFamily(out[0], f);
    AddFamily(out.emplace_back(), f);
  }
  return out;
}

std::vector<Program> HandWritten() {
  using L = std::numeric_limits<double>;
  std::vector<Program> out;
  // A summary and a histogram with the names they reserve taken by later
  // families (left out of the text), and a repeated bucket (dropped).
  out.emplace_back()
      .Family("a", "A summary.", kSummary)
      .Sample("", {{"quantile", "0.5"}}, 1)
      .Sample("_sum", {}, 10)
      .Sample("_count", {}, 4)
      .Family("a_sum", "Clashes.", kGauge)
      .Sample("", {}, 1)
      .Family("b", "A histogram.", kHistogram)
      .Sample("_bucket", {{"le", "0.5"}}, 1)
      .Sample("_bucket", {{"le", "+Inf"}}, 2)
      .Sample("_bucket", {{"le", "+Inf"}}, 3)
      .Sample("_sum", {}, 0.75)
      .Sample("_count", {}, 2)
      .Family("b_bucket", "Clashes.", kCounter)
      .Sample("", {}, 1);
  // Text that needs escaping or UTF-8 repair, and special values.
  Program& text = out.emplace_back(0, 3);
  text.Family("x_seconds", "back\\slash", kGauge, "seconds");
  const double values[] = {L::quiet_NaN(), L::infinity(), -L::infinity(),
                           -0.0,           L::max(),      L::denorm_min(),
                           1e21,           0.1,           -1.5};
  std::size_t i = 0;
  for (const std::string_view v : kLabelValueDict) {
    text.Sample("", {{"a", std::string(v)}, {"b", "x"}},
                values[i++ % std::size(values)]);
  }
  text.Family("b_total", "new\nline", kCounter)
      .Sample("", {{"le", "\xff"}}, 1)
      .Sample("", {{"le", "\xfe"}}, 2);  // repaired alike: a repeat
  // More labels than the host keeps inline.
  Labels many;
  for (char c = 'a'; c <= 'r'; ++c) many.emplace_back(std::string(1, c), "v");
  out.emplace_back().Family("a", "", kUntyped).Sample("", many, 1);
  // The sample limit: the third sample is refused, and so is the rest.
  out.emplace_back(2)
      .Family("a", "", kGauge)
      .Sample("", {{"a", "1"}}, 1)
      .Sample("", {{"a", "2"}}, 2)
      .Sample("", {{"a", "3"}}, 3)
      .Family("b", "", kGauge)
      .Sample("", {}, 4)
      .Collect()
      .Family("a", "", kGauge)
      .Sample("", {}, 5);
  // Refusals: bad names, types, units, suffixes and labels, a repeated
  // family, and malformed calls (bit 7 of flags allows the others).
  out.emplace_back(0, 2)
      .Family("0a", "", kGauge)
      .Sample("", {}, 1)
      .Family("a", "", 7)
      .Family("x_seconds", "", kGauge, "bytes")
      .Family("a", "", kGauge)
      .Sample("_sum", {}, 1)
      .Sample("", {{"__x", "1"}}, 1)
      .Sample("", {{"a", "1"}, {"a", "2"}}, 1)
      .Sample("", {{"a", "1"}}, 1, kFlagMalformed | kFlagNullLabels)
      .Sample("", {{"a", "1"}}, 1, kFlagMalformed | kFlagNullValue)
      .Sample("", {}, 1, kFlagMalformed | kFlagShortStruct)
      .Sample("", {}, 2, kFlagNullSuffix)
      .Family("a", "", kGauge)
      .Family("b", "", kGauge, "", kFlagMalformed | kFlagNullName)
      .Family("b", "", kGauge, "", kFlagNullHelp | kFlagNullUnit)
      .Sample("", {}, 3);
  return out;
}

}  // namespace
}  // namespace sysmetrics::fuzz

int main(int argc, char** argv) {
  namespace fz = sysmetrics::fuzz;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [file.prom...]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  int written = 0;
  auto write = [&](const std::string& prefix,
                   const std::vector<fz::Program>& programs) {
    for (std::size_t i = 0; i < programs.size(); ++i) {
      const std::string& bytes = programs[i].bytes();
      std::ofstream(dir / (prefix + "-" + std::to_string(i)), std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      ++written;
    }
  };
  write("hand", fz::HandWritten());
  bool ok = true;
  for (int i = 2; i < argc; ++i) {
    const std::vector<fz::Program> programs = fz::FromExposition(argv[i]);
    ok = ok && !programs.empty();
    write(std::filesystem::path(argv[i]).stem().string(), programs);
  }
  std::printf("fuzz_serializer_seeds: %d seeds in %s\n", written, argv[1]);
  return ok ? 0 : 1;
}
