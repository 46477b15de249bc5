// Fuzz target for ParsePsi (plugins/pressure/psi.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves both totals empty; skipped lines (on success or failure) have a
// reason and 1-based numbers, strictly increasing, within the text's line
// count; a parse into a Psi that held an earlier scrape's data keeps none
// of it; and the result written back as PSI text parses, with no line
// skipped, to the same result.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"
#include "psi.hpp"

namespace {

constexpr std::string_view kFile = "/proc/pressure/io";

std::string Render(const sysmetrics::pressure::Psi& p) {
  std::string text;
  if (p.some_us) {
    text += "some avg10=0.00 avg60=0.00 avg300=0.00 total=" +
            std::to_string(*p.some_us) + "\n";
  }
  if (p.full_us) {
    text += "full avg10=0.00 avg60=0.00 avg300=0.00 total=" +
            std::to_string(*p.full_us) + "\n";
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace ps = sysmetrics::pressure;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ps::Psi psi;
  psi.some_us = 1;  // an earlier scrape's values
  psi.full_us = 2;
  psi.skipped.push_back({size + 1, "stale"});
  std::string error;
  const bool ok = ps::ParsePsi(text, kFile, &psi, &error);
  sysmetrics::fuzz::CheckSkipped(text, psi.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(kFile) + ":"),
               "error does not name the file: '" + error + "'");
    FUZZ_CHECK(!psi.some_us && !psi.full_us,
               "a total is set though the parse failed");
    return 0;
  }
  FUZZ_CHECK(psi.some_us || psi.full_us, "success without a total");
  FUZZ_CHECK(!psi.some_us || text.find("some") != std::string_view::npos,
             "some set though the text lacks it");
  FUZZ_CHECK(!psi.full_us || text.find("full") != std::string_view::npos,
             "full set though the text lacks it");
  const std::string again = Render(psi);
  ps::Psi reparsed;
  FUZZ_CHECK(ps::ParsePsi(again, kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(), "the result written back skips a line");
  FUZZ_CHECK(reparsed.some_us == psi.some_us && reparsed.full_us == psi.full_us,
             "the result parses differently written back:\n" + again);
  return 0;
}
