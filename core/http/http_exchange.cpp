#include "http/http_exchange.hpp"

#include <Poco/Ascii.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>

#include <algorithm>
#include <ctime>
#include <utility>

namespace sysmetrics {
namespace {

// An istream over bytes the caller keeps alive; nothing is copied.
class ViewBuf final : public std::streambuf {
 public:
  void Reset(std::string_view bytes) {
    // std::streambuf wants char*; the get area is only ever read.
    char* p = const_cast<char*>(bytes.data());
    setg(p, p, p + bytes.size());
  }
};

// The path and query of a request target, both as sent: a path is routed
// undecoded ("/%6detrics" is not "/metrics"), so Poco::URI, which decodes
// it, does not serve here. An absolute-form target's authority ends at the
// first '/' or '?' (RFC 3986 3.2), and an empty path is "/".
void SplitTarget(std::string_view target, std::string* path,
                 std::string* query) {
  const auto starts_with_ci = [](std::string_view s, std::string_view p) {
    return s.size() >= p.size() &&
           std::equal(p.begin(), p.end(), s.begin(), [](char a, char b) {
             return Poco::Ascii::toLower(a) == Poco::Ascii::toLower(b);
           });
  };
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (starts_with_ci(target, scheme)) {
      const std::size_t end = target.find_first_of("/?", scheme.size());
      target = end == std::string_view::npos ? std::string_view()
                                             : target.substr(end);
      break;
    }
  }
  const std::size_t q = target.find('?');
  path->assign(target.substr(0, q));
  if (path->empty()) path->assign("/");
  query->assign(q == std::string_view::npos ? std::string_view()
                                            : target.substr(q + 1));
}

}  // namespace

AppendBuf::int_type AppendBuf::overflow(int_type c) {
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    out_->push_back(traits_type::to_char_type(c));
  }
  return traits_type::not_eof(c);
}

std::streamsize AppendBuf::xsputn(const char* s, std::streamsize n) {
  out_->append(s, static_cast<std::size_t>(n));
  return n;
}

std::string_view HttpDate() {
  thread_local std::time_t cached = 0;
  thread_local char text[64] = {};
  thread_local std::size_t size = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    size = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = now;
  }
  return {text, size};
}

GatedRequest::GatedRequest(const Poco::Net::SocketAddress& client,
                           const std::string& peer,
                           const Poco::Net::SocketAddress& server,
                           const Poco::Net::HTTPServerParams& params,
                           bool secure)
    : client_(client),
      peer_(peer),
      server_(server),
      params_(params),
      secure_(secure),
      received_(std::chrono::steady_clock::now()) {}

Status GatedRequest::Read(std::string_view head) {
  try {
    // One stream per thread (a stream costs a locale to make), reset to
    // this head and to a good state.
    thread_local ViewBuf buf;
    thread_local std::istream in(&buf);
    buf.Reset(head);
    in.clear();
    read(in);
    buf.Reset({});
    SplitTarget(getURI(), &path_, &query_);
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Error(e.displayText());
  }
}

std::istream& GatedRequest::stream() {
  struct EmptyBuf final : std::streambuf {};
  thread_local EmptyBuf empty;
  thread_local std::istream body(&empty);
  return body;
}

Poco::Net::HTTPServerResponse& GatedRequest::response() const {
  if (response_ == nullptr) {
    throw Poco::NullPointerException("no response for this request yet");
  }
  return *response_;
}

BufferedResponse::BufferedResponse(std::string* wire, bool keep_alive,
                                   bool head_only)
    : wire_(wire), keep_alive_(keep_alive), head_only_(head_only) {
  setVersion(HTTP_1_1);
  set("Date", std::string(HttpDate()));
  set("Server", "sysmetrics");
  // Spelled as the tests and most servers do; HTTPMessage::setKeepAlive
  // would write "Keep-Alive" and "Close".
  set("Connection", keep_alive ? "keep-alive" : "close");
}

void BufferedResponse::WriteHead() {
  if (sent_) throw Poco::IllegalStateException("response already sent");
  sent_ = true;
  // One stream per thread, pointed at this response's wire: a stream
  // costs a locale to make, which per request showed in the CPU figures.
  thread_local AppendBuf buf(nullptr);
  thread_local std::ostream head(&buf);
  buf.set_target(wire_);
  write(head);
  buf.set_target(nullptr);
}

std::ostream& BufferedResponse::send() {
  WriteHead();
  body_.emplace(head_only_ ? &discard_ : wire_);
  return body_->stream;
}

void BufferedResponse::sendFile(const std::string& /*path*/,
                                const std::string& /*media*/) {
  throw Poco::NotImplementedException("sysmetrics serves no files");
}

void BufferedResponse::sendBuffer(const void* buffer, std::size_t length) {
  setContentLength(static_cast<std::streamsize>(length));
  WriteHead();
  if (!head_only_) wire_->append(static_cast<const char*>(buffer), length);
}

void BufferedResponse::SendBorrowed(std::string_view body) {
  setContentLength(static_cast<std::streamsize>(body.size()));
  WriteHead();
  if (!head_only_) borrowed_ = body;
}

void BufferedResponse::redirect(const std::string& uri, HTTPStatus status) {
  setStatusAndReason(status);
  set("Location", uri);
  sendBuffer("", 0);
}

void BufferedResponse::requireAuthentication(const std::string& realm) {
  setStatusAndReason(HTTP_UNAUTHORIZED);
  set("WWW-Authenticate", "Basic realm=\"" + realm + "\", charset=\"UTF-8\"");
}

ResponseBuffers& ThreadResponseBuffers() {
  thread_local ResponseBuffers buffers;
  return buffers;
}

void SendText(BufferedResponse& response,
              Poco::Net::HTTPResponse::HTTPStatus status,
              std::string_view body) {
  static const std::string kPlainText = "text/plain; charset=utf-8";
  response.setStatusAndReason(status);
  response.setContentType(kPlainText);
  response.sendBuffer(body.data(), body.size());
}

}  // namespace sysmetrics
