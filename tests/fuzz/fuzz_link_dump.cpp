// Fuzz target for ParseLinkDump (plugins/netclass/link_dump.hpp): one
// datagram of an rtnetlink RTM_GETLINK dump, as netclass receives it.
//
// The first 4 bytes of the input are the sequence number the request had;
// the rest is the datagram. Beyond "no crash, no sanitizer report": parsing
// never reads outside the datagram (AddressSanitizer; the bytes are copied
// into a buffer of exactly their size); on kMore or kDone every interface
// has a name, an iflink, an operstate that is one of sysfs' words or
// empty, and addresses in sysfs' "%*phC" form; and the result does not
// depend on the links the vector held before.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "link_dump.hpp"

namespace {

namespace nc = sysmetrics::netclass;

// Lowercase hex pairs joined by ':', or empty.
bool IsHardwareAddress(const std::string& s) {
  if (s.empty()) return true;
  if (s.size() % 3 != 2) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (i % 3 == 2 ? c != ':' : !hex) return false;
  }
  return true;
}

bool IsOperstate(const std::string& s) {
  if (s.empty()) return true;
  for (unsigned k = 0; k < 16; ++k) {
    if (nc::OperstateWord(k) == s) return true;
  }
  return false;
}

bool SameLinks(const std::vector<nc::Link>& a, const std::vector<nc::Link>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const nc::Link& x = a[i];
    const nc::Link& y = b[i];
    if (x.name != y.name || x.index != y.index || x.type != y.type ||
        x.flags != y.flags || x.dormant != y.dormant ||
        x.address != y.address || x.broadcast != y.broadcast ||
        x.ifalias != y.ifalias || x.operstate != y.operstate) {
      return false;
    }
    for (int k = 0; k < nc::Link::kFields; ++k) {
      if (x.has[k] != y.has[k] || (x.has[k] && x.value[k] != y.value[k])) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < sizeof(std::uint32_t)) return 0;
  std::uint32_t seq = 0;
  std::memcpy(&seq, data, sizeof seq);
  const std::size_t n = size - sizeof seq;
  // Exactly the datagram's bytes, so a read past them is a report.
  const auto bytes = std::make_unique<char[]>(n == 0 ? 1 : n);
  std::memcpy(bytes.get(), data + sizeof seq, n);
  const std::string_view datagram(bytes.get(), n);

  std::vector<nc::Link> links;
  const nc::DumpStatus status = nc::ParseLinkDump(datagram, seq, &links);
  std::vector<nc::Link> again(3);  // an earlier datagram's links
  again[0].name = "earlier";
  const nc::DumpStatus status2 = nc::ParseLinkDump(datagram, seq, &again);
  FUZZ_CHECK(status == status2, "the status depends on earlier links");
  if (status == nc::DumpStatus::kFailed) return 0;
  again.erase(again.begin(), again.begin() + 3);
  FUZZ_CHECK(SameLinks(links, again), "the links depend on earlier links");
  for (const nc::Link& l : links) {
    FUZZ_CHECK(!l.name.empty(), "an interface without a name");
    FUZZ_CHECK(l.has[nc::Link::kIflink], "an interface without an iflink");
    FUZZ_CHECK(IsOperstate(l.operstate),
               "operstate '" + l.operstate + "' is not one of sysfs' words");
    FUZZ_CHECK(IsHardwareAddress(l.address) && IsHardwareAddress(l.broadcast),
               "an address not in sysfs' form: '" + l.address + "', '" +
                   l.broadcast + "'");
  }
  return 0;
}
