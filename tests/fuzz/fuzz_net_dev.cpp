// Fuzz target for ParseNetDev (plugins/network/net_dev.hpp).
//
// Beyond "no crash, no sanitizer report": a failure names the file; a
// success keeps the header's promises (names are non-empty, hold no ':' or
// newline, do not start with a blank, and point into the parsed text); a
// parse into a NetDev that held interfaces keeps none of them; and the
// result written back as net/dev text parses to the same result.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
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
  std::string error;
  if (!net::ParseNetDev(text, net::kFile, &dev, &error)) {
    FUZZ_CHECK(error.starts_with(std::string(net::kFile) + ":") &&
                   error.size() > net::kFile.size() + 1,
               "error does not name the file: '" + error + "'");
    return 0;
  }
  for (const net::InterfaceLine& i : dev.interfaces) {
    FUZZ_CHECK(!i.name.empty() && net::Inside(i.name, text),
               "interface name not inside the parsed text");
    FUZZ_CHECK(i.name.find_first_of(":\n") == std::string_view::npos &&
                   i.name[0] != ' ' && i.name[0] != '\t',
               "bad interface name '" + std::string(i.name) + "'");
  }
  const std::string again = net::Render(dev);
  net::NetDev reparsed;
  FUZZ_CHECK(net::ParseNetDev(again, net::kFile, &reparsed, &error),
             "the result written back does not parse: " + error);
  FUZZ_CHECK(net::Same(dev, reparsed),
             "the result written back parses differently:\n" + again);
  return 0;
}
