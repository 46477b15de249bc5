// One HTTP exchange in Poco's own request and response classes, over a
// connection the server's event loop owns.
//
// GatedRequest is a Poco::Net::HTTPServerRequest read by
// HTTPRequest::read from a request head the gate (http_request.hpp) has
// already received whole and checked, so reading it never waits on a
// socket. BufferedResponse is a Poco::Net::HTTPServerResponse that
// writes the status line, the headers (HTTPResponse::write) and the body
// into a string the server then sends without blocking. Both are used by
// one thread at a time: the one that owns the connection.
#pragma once

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <cstddef>
#include <istream>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace sysmetrics {

// A std::streambuf that appends to a string (no copy, no flush).
class AppendBuf final : public std::streambuf {
 public:
  explicit AppendBuf(std::string* out) : out_(out) {}
  void set_target(std::string* out) { out_ = out; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  std::string* out_;
};

class GatedRequest final : public Poco::Net::HTTPServerRequest {
 public:
  // Where the request came from ("host:port" in peer, for logs) and
  // arrived; all four outlive the request.
  GatedRequest(const Poco::Net::SocketAddress& client, const std::string& peer,
               const Poco::Net::SocketAddress& server,
               const Poco::Net::HTTPServerParams& params, bool secure);

  // Reads the head (HTTPRequest::read) and splits its target. An error
  // (Poco's message) if Poco refuses it.
  Status Read(std::string_view head);

  // The target's path ("/" for an absolute-form target without one) and
  // query, both undecoded.
  const std::string& path() const { return path_; }
  const std::string& query() const { return query_; }
  // The client as "host:port", for logs.
  const std::string& peer() const { return peer_; }
  std::chrono::steady_clock::time_point received() const { return received_; }
  bool head_only() const { return getMethod() == HTTP_HEAD; }

  // Answers go to this response; it must outlive the handler's run.
  void set_response(Poco::Net::HTTPServerResponse* response) {
    response_ = response;
  }

  // HTTPServerRequest. The body is never read: a request that has one is
  // answered and its connection closed, so stream() is always empty (one
  // stream per thread, shared by its requests).
  std::istream& stream() override;
  const Poco::Net::SocketAddress& clientAddress() const override {
    return client_;
  }
  const Poco::Net::SocketAddress& serverAddress() const override {
    return server_;
  }
  const Poco::Net::HTTPServerParams& serverParams() const override {
    return params_;
  }
  // Throws Poco::NullPointerException before set_response.
  Poco::Net::HTTPServerResponse& response() const override;
  bool secure() const override { return secure_; }

 private:
  const Poco::Net::SocketAddress& client_;
  const std::string& peer_;
  const Poco::Net::SocketAddress& server_;
  const Poco::Net::HTTPServerParams& params_;
  bool secure_;
  std::chrono::steady_clock::time_point received_;
  std::string path_;
  std::string query_;
  Poco::Net::HTTPServerResponse* response_ = nullptr;
};

class BufferedResponse final : public Poco::Net::HTTPServerResponse {
 public:
  // Appends to *wire. HTTP/1.1, with Date, Server and Connection set from
  // keep_alive; head_only leaves the body out (a response to HEAD).
  BufferedResponse(std::string* wire, bool keep_alive, bool head_only);

  bool keep_alive() const { return keep_alive_; }

  // HTTPServerResponse. sendBuffer() is the one the handlers use: the
  // whole response in one string. send() writes the head and returns a
  // stream for a body of the Content-Length set before. There is no
  // "100 Continue" (bodies are never read) and no file serving.
  void sendContinue() override {}
  std::ostream& send() override;
  void sendFile(const std::string& path, const std::string& media) override;
  void sendBuffer(const void* buffer, std::size_t length) override;
  // sendBuffer without the copy: the head goes into *wire and the body
  // stays where it is, to be written after it (borrowed_body()). body must
  // stay valid and unchanged until the server has written the response:
  // memory of ThreadResponseBuffers() or static storage.
  void SendBorrowed(std::string_view body);
  // What SendBorrowed left in place (empty for HEAD and after the other
  // ways of sending): the bytes that follow *wire on the connection.
  std::string_view borrowed_body() const { return borrowed_; }
  void redirect(const std::string& uri, HTTPStatus status) override;
  void requireAuthentication(const std::string& realm) override;
  bool sent() const override { return sent_; }

 private:
  void WriteHead();

  // The body stream send() returns: into the wire, or nowhere for HEAD.
  struct BodyStream {
    explicit BodyStream(std::string* out) : buf(out) {}
    AppendBuf buf;
    std::ostream stream{&buf};
  };

  std::string* wire_;
  std::string_view borrowed_;
  bool keep_alive_;
  bool head_only_;
  bool sent_ = false;
  // Streams cost a locale each: made only when send() is used, not on the
  // sendBuffer() path every handler takes.
  std::string discard_;
  std::optional<BodyStream> body_;
};

// Gives back the memory of a reused per-thread buffer that an unusually
// large response (a host with thousands of devices for a while) grew past
// kKeepResponseBuffer: every thread keeps its own, and one that seldom
// serves would otherwise hold it for good. Normal responses keep their
// capacity.
inline constexpr std::size_t kKeepResponseBuffer = std::size_t{256} * 1024;
inline void ReleaseIfLarge(std::string& buf) {
  if (buf.capacity() > kKeepResponseBuffer) std::string().swap(buf);
}

// A thread's buffers for large response bodies (a scrape, and its gzip
// form), kept from one response to the next so that the scrape path stops
// allocating. The exchange layer owns them, not a handler: a body a
// handler passes to SendBorrowed from here stays valid until the server
// has written it, after which the server calls ReleaseIfLarge on both.
struct ResponseBuffers {
  std::string body;
  std::string compressed;
};
ResponseBuffers& ThreadResponseBuffers();

// "Date:" wants an HTTP date; formatted once a second per thread.
std::string_view HttpDate();

// A short plain-text response ("404 not found\n" and the like).
void SendText(BufferedResponse& response,
              Poco::Net::HTTPResponse::HTTPStatus status,
              std::string_view body);

}  // namespace sysmetrics
