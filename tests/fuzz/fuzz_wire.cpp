// Fuzz target for what a helper process sends the exporter (core/
// plugin_wire.hpp, core/scrape/plugin_helper.hpp): an isolated plugin runs
// there, so a crashed or corrupted helper may send any bytes, and the exporter
// must neither crash nor serve anything its own checks would refuse.
//
// The input is read as a hello (DecodeInfo) and as a collect result
// (ReplayResult, which emits through the real host API into a MetricSet).
// Beyond "no crash, no sanitizer report": every string a Reader hands out
// lies inside the input and is NUL-terminated there; a result that replays
// is rendered as an exposition the strict parser accepts.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "plugin/plugin_wire.hpp"
#include "scrape/collector.hpp"
#include "scrape/plugin_helper.hpp"
#include "scrape/text_format.hpp"
#include "strict_parse.hpp"

namespace fz = sysmetrics::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Strings: inside the input, NUL-terminated where they end.
  sysmetrics::wire::Reader strings(input);
  for (int i = 0; i < 64 && strings.ok(); ++i) {
    std::size_t n = 0;
    const char* s = strings.Str(&n);
    if (!strings.ok()) break;
    FUZZ_CHECK(s >= input.data() && s + n < input.data() + input.size(),
               "a string outside the input");
    FUZZ_CHECK(s[n] == '\0', "a string without its NUL");
  }

  sysmetrics::wire::Reader hello(input);
  (void)sysmetrics::wire::DecodeInfo(hello);

  sysmetrics::MetricSet set;
  set.set_sample_limit(10000);
  sm_host host;
  host.plugin_name = "fuzz";
  sm_emitter em;
  em.host = &host;
  em.set = &set;
  const sysmetrics::Result<sysmetrics::CollectVerdict> replayed =
      sysmetrics::ReplayResult(input, &em);
  set.Finish();
  if (replayed.ok() && replayed.value().plugin.ok() && !set.limit_reached()) {
    std::string out;
    sysmetrics::AppendSetText(out, set);
    fz::Exposition exposition;
    std::string error;
    FUZZ_CHECK(fz::StrictParse(out, &exposition, &error),
               error + "\n--- exposition:\n" + out + "--- end");
  }
  return 0;
}
