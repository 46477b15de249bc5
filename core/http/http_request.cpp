#include "http/http_request.hpp"

#include <cstdint>

#include "common/text.hpp"

namespace sysmetrics {
namespace {

// RFC 9110 tchar: the characters of a method or a header name.
bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Control bytes, which may appear nowhere in a head but as line ends (and
// tabs in field values).
bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

ParseOutcome Error(int status, const char* why) {
  ParseOutcome out;
  out.status = ParseStatus::kError;
  out.error_status = status;
  out.error = why;
  return out;
}

// A request line not yet complete can already be wrong: rejecting binary
// garbage at once beats waiting for a line end that never comes.
bool PartialLineIsPlausible(std::string_view line) {
  bool in_method = true;
  for (const char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r' || c == '\n') continue;
    if (IsControl(c)) return false;
    if (in_method) {
      if (c == ' ') {
        in_method = false;
      } else if (!IsTokenChar(c)) {
        return false;
      }
    }
  }
  return true;
}

struct Line {
  std::string_view text;  // without its line end
  std::size_t next = 0;   // offset just past its line end
};

// The line starting at from, if its end ('\n', optionally after '\r') is
// in data.
bool NextLine(std::string_view data, std::size_t from, Line* line) {
  const std::size_t nl = data.find('\n', from);
  if (nl == std::string_view::npos) return false;
  std::size_t end = nl;
  if (end > from && data[end - 1] == '\r') --end;
  line->text = data.substr(from, end - from);
  line->next = nl + 1;
  return true;
}

ParseOutcome ParseRequestLine(std::string_view line, HttpRequestHead* head) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    return Error(400, "malformed request line");
  }
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Error(400, "malformed request line");
  }
  head->method = line.substr(0, sp1);
  if (head->method.size() > kMaxMethod) return Error(400, "method too long");
  for (const char c : head->method) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) {
      return Error(400, "malformed method");
    }
  }
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (const char c : target) {
    if (IsControl(static_cast<unsigned char>(c))) {
      return Error(400, "control character in request target");
    }
  }
  head->target = target;
  // origin-form, asterisk-form or absolute-form (which servers must
  // accept); Poco::URI splits the last into its parts.
  bool absolute = false;
  for (const std::string_view scheme : {"http://", "https://"}) {
    absolute =
        absolute || (target.size() >= scheme.size() &&
                     EqualsIgnoreCase(target.substr(0, scheme.size()), scheme));
  }
  if (!absolute && target.front() != '/' && target != "*") {
    return Error(400, "request target is not a path");
  }
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" ||
      version[5] < '0' || version[5] > '9' || version[6] != '.' ||
      version[7] < '0' || version[7] > '9') {
    return Error(400, "malformed HTTP version");
  }
  if (version[5] != '1' || version[7] > '1') {
    return Error(505, "HTTP version not supported");
  }
  head->version_minor = version[7] - '0';
  return {};
}

struct Framing {
  bool content_length_seen = false;
  std::uint64_t content_length = 0;
  bool transfer_encoding = false;
};

ParseOutcome ParseField(std::string_view line, HttpRequestHead* head,
                        std::string_view* connection, Framing* framing) {
  if (line.front() == ' ' || line.front() == '\t') {
    return Error(400, "folded header line");
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error(400, "malformed header line");
  }
  const std::string_view name = line.substr(0, colon);
  if (name.size() > kMaxFieldName) {
    return Error(431, "header name too long");
  }
  for (const char c : name) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) {
      return Error(400, "malformed header name");
    }
  }
  // Poco reads up to the line end, leading whitespace included, so its
  // limit is on the untrimmed value.
  if (line.size() - colon - 1 > kMaxFieldValue) {
    return Error(431, "header value too long");
  }
  const std::string_view value = TrimBlanks(line.substr(colon + 1));
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (IsControl(u) && u != '\t') {
      return Error(400, "control character in header value");
    }
  }
  if (EqualsIgnoreCase(name, "host")) {
    if (head->has_host) return Error(400, "repeated Host header");
    head->has_host = true;
  } else if (EqualsIgnoreCase(name, "connection")) {
    *connection = value;
  } else if (EqualsIgnoreCase(name, "content-length")) {
    std::uint64_t n = 0;
    if (value.empty() || value.size() > 18) {
      return Error(400, "malformed Content-Length");
    }
    for (const char c : value) {
      if (c < '0' || c > '9') return Error(400, "malformed Content-Length");
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (framing->content_length_seen && framing->content_length != n) {
      return Error(400, "conflicting Content-Length headers");
    }
    framing->content_length_seen = true;
    framing->content_length = n;
  } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
    framing->transfer_encoding = true;
  }
  return {};
}

}  // namespace

bool HeaderListHas(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (EqualsIgnoreCase(TrimBlanks(value.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

ParseOutcome ParseRequestHead(std::string_view data, HttpRequestHead* head) {
  *head = HttpRequestHead();
  // Empty lines before a request line are ignored (RFC 9112 2.2); a few,
  // not an endless stream of them.
  std::size_t start = 0;
  for (int i = 0; i < 4 && start < data.size(); ++i) {
    if (data.substr(start, 2) == "\r\n") {
      start += 2;
    } else if (data[start] == '\n') {
      start += 1;
    } else {
      break;
    }
  }
  Line line;
  if (!NextLine(data, start, &line)) {
    const std::string_view partial = data.substr(start);
    if (partial.size() > kMaxRequestLine) {
      return Error(414, "request line too long");
    }
    if (!PartialLineIsPlausible(partial)) {
      return Error(400, "malformed request line");
    }
    return {};
  }
  if (line.text.size() > kMaxRequestLine) {
    return Error(414, "request line too long");
  }
  if (line.text.empty()) return Error(400, "malformed request line");
  if (ParseOutcome r = ParseRequestLine(line.text, head);
      r.status == ParseStatus::kError) {
    return r;
  }
  std::string_view connection;
  Framing framing;
  int fields = 0;
  std::size_t pos = line.next;
  for (;;) {
    if (!NextLine(data, pos, &line)) {
      if (data.size() > kMaxRequestHead) {
        return Error(431, "request header fields too large");
      }
      return {};
    }
    if (line.next > kMaxRequestHead) {
      return Error(431, "request header fields too large");
    }
    pos = line.next;
    if (line.text.empty()) break;
    if (++fields > kMaxHeaderFields) {
      return Error(431, "too many header fields");
    }
    if (ParseOutcome r = ParseField(line.text, head, &connection, &framing);
        r.status == ParseStatus::kError) {
      return r;
    }
  }
  if (framing.transfer_encoding && framing.content_length_seen) {
    return Error(400, "both Content-Length and Transfer-Encoding");
  }
  if (head->version_minor >= 1 && !head->has_host) {
    return Error(400, "missing Host header");
  }
  head->has_body = framing.transfer_encoding || framing.content_length > 0;
  head->keep_alive = head->version_minor >= 1
                         ? !HeaderListHas(connection, "close")
                         : HeaderListHas(connection, "keep-alive");
  ParseOutcome out;
  out.status = ParseStatus::kComplete;
  out.consumed = pos;
  return out;
}

}  // namespace sysmetrics
