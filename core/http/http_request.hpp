// The gate in front of Poco's request parser: decides, incrementally and
// without allocating, when a request head has arrived whole, and refuses
// the heads Poco would read leniently or not at all.
//
// The server reads bytes into a per-connection buffer and calls
// ParseRequestHead() after each read. Only a head it calls complete goes on
// to Poco::Net::HTTPRequest::read, which then cannot fail: the gate holds
// heads to Poco's own limits (method, header name and value lengths, field
// count) and is stricter than Poco where laxness would be a risk (request
// line shape, control bytes, folded lines, a repeated Host, conflicting
// framing, sizes), tolerant where clients differ (bare LF line ends, header
// name case, optional whitespace). It knows nothing of routing or of the
// fields the handlers read: those are Poco's. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace sysmetrics {

// Longest request line (method, target, version); beyond it: 414.
inline constexpr std::size_t kMaxRequestLine = std::size_t{8} * 1024;
// Longest request head (request line and headers); beyond it: 431.
inline constexpr std::size_t kMaxRequestHead = std::size_t{16} * 1024;
// Most header fields in one request; beyond it: 431.
inline constexpr int kMaxHeaderFields = 100;

// Poco::Net::HTTPRequest's limits (HTTPRequest.h, MessageHeader.h): a
// longer method is 400, a longer header name or value 431.
inline constexpr std::size_t kMaxMethod = 32;
inline constexpr std::size_t kMaxFieldName = 256;
inline constexpr std::size_t kMaxFieldValue = 8192;

// What the gate needs to frame the exchange; the request itself (method,
// target, fields) is read by Poco.
struct HttpRequestHead {
  std::string_view method;
  std::string_view target;  // as sent: not decoded, maybe absolute-form
  int version_minor = 1;    // HTTP/1.0 or HTTP/1.1
  // Whether the connection may stay open after the response, from the
  // version and the Connection header.
  bool keep_alive = true;
  // Whether the request announces a body (Content-Length > 0 or a
  // Transfer-Encoding). The server reads no bodies: it answers and closes.
  bool has_body = false;
  bool has_host = false;
};

enum class ParseStatus { kIncomplete, kComplete, kError };

struct ParseOutcome {
  ParseStatus status = ParseStatus::kIncomplete;
  // kComplete: bytes of data the head used (through its empty line).
  std::size_t consumed = 0;
  // kError: the status code to answer with (400, 414, 431, 501, 505) and
  // why, for the log and the response body.
  int error_status = 0;
  const char* error = "";
};

// Parses the request head at the start of data. kIncomplete means more
// bytes may complete it (data holds no error yet and is within the size
// limits).
ParseOutcome ParseRequestHead(std::string_view data, HttpRequestHead* head);

// Whether a comma-separated header value lists token, ignoring case and
// whitespace ("keep-alive, Upgrade" lists "upgrade").
bool HeaderListHas(std::string_view value, std::string_view token);

}  // namespace sysmetrics
