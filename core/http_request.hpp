// HTTP/1.x request heads: an incremental, allocation-free parser.
//
// The server reads bytes into a per-connection buffer and calls
// ParseRequestHead() after each read; the result refers into that buffer.
// The parser is strict where laxness would be a risk (request line shape,
// header names, control bytes, sizes) and tolerant where clients differ
// (bare LF line ends, header name case, optional whitespace). It knows
// nothing of routing: that is the server's business.
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

struct HttpRequestHead {
  std::string_view method;
  std::string_view target;  // as sent: path and query, not decoded
  std::string_view path;    // target up to '?'
  std::string_view query;   // after '?', empty if none
  int version_minor = 1;    // HTTP/1.0 or HTTP/1.1
  // Whether the connection may stay open after the response, from the
  // version and the Connection header.
  bool keep_alive = true;
  // Whether the request announces a body (Content-Length > 0 or a
  // Transfer-Encoding). The server reads no bodies: it answers and closes.
  bool has_body = false;
  bool has_host = false;
  // The header fields the server uses; empty when absent. A repeated field
  // keeps its last value, except Host, which may not repeat.
  std::string_view accept;
  std::string_view accept_encoding;
  std::string_view authorization;
  std::string_view scrape_timeout;  // X-Prometheus-Scrape-Timeout-Seconds
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
