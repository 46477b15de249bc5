// Fuzz target for ParseNetDev (plugins/network/net_dev.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file and
// leaves no interface; skipped lines (on success or failure) have a reason
// and 1-based numbers, strictly increasing, within the text's line count;
// a success keeps the header's promises (names are unique and non-empty,
// hold no newline, neither start nor end with a blank, and point into the
// parsed text; each interface's line number is ascending, in range and not
// a skipped one); a parse into a NetDev that held interfaces and skipped
// lines keeps none of them; and the result written back as net/dev text
// parses, with no line skipped, to the same result.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_skipped.hpp"
#include "net_dev.hpp"

namespace sysmetrics::network {
namespace {

constexpr std::string_view kFile = "/proc/net/dev";

std::string Render(const NetDev& dev) {
  std::string text =
      "Inter-|   Receive                                                |  "
      "Transmit\n face |bytes    packets errs drop fifo frame compressed "
      "multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  for (const InterfaceLine& i : dev.interfaces) {
    text += std::string(i.name) + ":";
    for (const std::uint64_t v : i.v) text += " " + std::to_string(v);
    text += "\n";
  }
  return text;
}

bool Same(const NetDev& a, const NetDev& b) {
  if (a.interfaces.size() != b.interfaces.size()) return false;
  for (std::size_t i = 0; i < a.interfaces.size(); ++i) {
    const InterfaceLine& x = a.interfaces[i];
    const InterfaceLine& y = b.interfaces[i];
    if (x.name != y.name) return false;
    for (int k = 0; k < kCounters; ++k) {
      if (x.v[k] != y.v[k]) return false;
    }
  }
  return true;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool Inside(std::string_view part, std::string_view whole) {
  const std::less_equal<const char*> le;
  return le(whole.data(), part.data()) &&
         le(part.data() + part.size(), whole.data() + whole.size());
}

}  // namespace
}  // namespace sysmetrics::network

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace net = sysmetrics::network;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  net::NetDev dev;
  // Interfaces from an earlier scrape, which the parse must replace.
  dev.interfaces.resize(2);
  dev.skipped.push_back({size + 1, "stale"});
  std::string error;
  const bool ok = net::ParseNetDev(text, net::kFile, &dev, &error);
  sysmetrics::fuzz::CheckSkipped(text, dev.skipped);
  if (!ok) {
    FUZZ_CHECK(error.starts_with(std::string(net::kFile) + ":") &&
                   error.size() > net::kFile.size() + 1,
               "error does not name the file: '" + error + "'");
    FUZZ_CHECK(dev.interfaces.empty(), "failure with an interface");
    return 0;
  }
  FUZZ_CHECK(!dev.interfaces.empty(), "success without an interface");
  const std::size_t lines = sysmetrics::fuzz::LineCount(text);
  std::set<std::string_view> names;
  std::set<std::size_t> skipped_lines;
  for (const auto& s : dev.skipped) skipped_lines.insert(s.line);
  for (std::size_t k = 0; k < dev.interfaces.size(); ++k) {
    const net::InterfaceLine& i = dev.interfaces[k];
    FUZZ_CHECK(!i.name.empty() && net::Inside(i.name, text),
               "interface name not inside the parsed text");
    FUZZ_CHECK(i.name.find('\n') == std::string_view::npos &&
                   !net::IsBlank(i.name.front()) &&
                   !net::IsBlank(i.name.back()),
               "bad interface name '" + std::string(i.name) + "'");
    FUZZ_CHECK(names.insert(i.name).second,
               "interface name '" + std::string(i.name) + "' repeats");
    FUZZ_CHECK(
        i.line >= 1 && i.line <= lines &&
            (k == 0 || dev.interfaces[k - 1].line < i.line) &&
            skipped_lines.count(i.line) == 0,
        std::string(i.name) + " has line number " + std::to_string(i.line));
  }
  const std::string again = net::Render(dev);
  net::NetDev reparsed;
  FUZZ_CHECK(net::ParseNetDev(again, net::kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(reparsed.skipped.empty(),
             "the result written back skips line " +
                 std::to_string(reparsed.skipped[0].line) + ": " +
                 reparsed.skipped[0].reason);
  FUZZ_CHECK(net::Same(dev, reparsed),
             "the result written back parses differently:\n" + again);
  return 0;
}
