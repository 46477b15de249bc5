// Fuzz target for the request path up to the handlers: the gate
// (ParseRequestHead, core/http/http_request.hpp), which decides when a head is
// complete and enforces the limits on bytes from any client that can
// connect, and Poco's parser behind it (GatedRequest::Read, which runs
// Poco::Net::HTTPRequest::read on the heads the gate passes).
//
// Beyond "no crash, no sanitizer report": the gate's views lie inside the
// input; a complete head is within the size limits, every shorter prefix of
// it is merely incomplete (the server runs the gate after each read, so a
// prefix must never be refused), and Poco reads it without an error (the
// gate holds heads to Poco's limits) into a method and a path the router
// can compare; an error carries one of the statuses the server answers
// with and a reason; an incomplete input is within the limits.
#include <Poco/AutoPtr.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SocketAddress.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/http_exchange.hpp"
#include "http/http_request.hpp"

namespace {

bool Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using sysmetrics::HttpRequestHead;
  using sysmetrics::ParseStatus;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  HttpRequestHead head;
  const sysmetrics::ParseOutcome r = sysmetrics::ParseRequestHead(text, &head);
  switch (r.status) {
    case ParseStatus::kError: {
      const int s = r.error_status;
      FUZZ_CHECK(s == 400 || s == 414 || s == 431 || s == 501 || s == 505,
                 "unexpected error status " + std::to_string(s));
      FUZZ_CHECK(r.error != nullptr && r.error[0] != '\0',
                 "error without a reason");
      return 0;
    }
    case ParseStatus::kIncomplete:
      // Leading empty lines may precede a request line at its limit.
      FUZZ_CHECK(size <= sysmetrics::kMaxRequestHead + 8,
                 "incomplete at " + std::to_string(size) +
                     " bytes, past the head limit");
      return 0;
    case ParseStatus::kComplete:
      break;
  }
  FUZZ_CHECK(
      r.consumed > 0 && r.consumed <= size &&
          r.consumed <= sysmetrics::kMaxRequestHead,
      "consumed " + std::to_string(r.consumed) + " of " + std::to_string(size));
  for (const std::string_view v : {head.method, head.target}) {
    FUZZ_CHECK(Inside(v, text.substr(0, r.consumed)),
               "a view points outside the request head");
  }
  FUZZ_CHECK(!head.method.empty(), "empty method");
  FUZZ_CHECK(head.version_minor == 0 || head.version_minor == 1,
             "version 1." + std::to_string(head.version_minor));
  FUZZ_CHECK(head.version_minor == 0 || head.has_host, "HTTP/1.1 without Host");
  // Poco reads what the gate passed, to the same method and target.
  static const Poco::Net::SocketAddress address;
  static const std::string peer = "fuzz";
  static const Poco::Net::HTTPServerParams::Ptr params =
      Poco::makeAuto<Poco::Net::HTTPServerParams>();
  sysmetrics::GatedRequest request(address, peer, address, *params, false);
  const sysmetrics::Status read = request.Read(text.substr(0, r.consumed));
  FUZZ_CHECK(read.ok(),
             "the gate passed a head Poco refuses: " + read.message());
  FUZZ_CHECK(request.getMethod() == head.method,
             "Poco's method differs from the gate's");
  FUZZ_CHECK(request.getURI() == head.target,
             "Poco's target differs from the gate's");
  const std::string& path = request.path();
  FUZZ_CHECK(path == "*" || (!path.empty() && path[0] == '/'),
             "path neither '*' nor absolute: '" + path + "'");
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u > 0x20 && u != 0x7f, "control byte or space in the path");
  }
  // Every proper prefix (checked at a few cut points, all of them for short
  // heads) is incomplete, never an error or a different request.
  const std::size_t step = r.consumed <= 256 ? 1 : r.consumed / 64;
  for (std::size_t n = 0; n < r.consumed; n += step) {
    HttpRequestHead partial;
    const sysmetrics::ParseOutcome p =
        sysmetrics::ParseRequestHead(text.substr(0, n), &partial);
    FUZZ_CHECK(p.status == ParseStatus::kIncomplete,
               "the first " + std::to_string(n) + " of " +
                   std::to_string(r.consumed) + " bytes are " +
                   (p.status == ParseStatus::kError
                        ? "an error: " + std::string(p.error)
                        : std::string("complete")));
  }
  return 0;
}
