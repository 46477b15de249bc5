#include "http/http_request.hpp"

#include <Poco/AutoPtr.h>
#include <doctest/doctest.h>

#include <string>

#include "http/http_exchange.hpp"

namespace sysmetrics {
namespace {

ParseOutcome Parse(std::string_view text, HttpRequestHead* head) {
  return ParseRequestHead(text, head);
}

// A head the gate passed, as Poco reads it.
struct Read {
  Poco::Net::SocketAddress client;
  Poco::Net::SocketAddress server;
  std::string peer = "client";
  Poco::Net::HTTPServerParams::Ptr params =
      Poco::makeAuto<Poco::Net::HTTPServerParams>();
  GatedRequest request{client, peer, server, *params, false};
  Status status = Status::Ok();

  explicit Read(std::string_view text) {
    HttpRequestHead head;
    const ParseOutcome r = ParseRequestHead(text, &head);
    REQUIRE(r.status == ParseStatus::kComplete);
    status = request.Read(text.substr(0, r.consumed));
  }
};

TEST_CASE("a Prometheus scrape request") {
  const std::string text =
      "GET /metrics?collect[]=cpu HTTP/1.1\r\n"
      "Host: localhost:9101\r\n"
      "User-Agent: Prometheus/2.42.0\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n"
      "Accept-Encoding: gzip\r\n"
      "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
      "\r\n"
      "GET /next";
  HttpRequestHead head;
  const ParseOutcome r = Parse(text, &head);
  REQUIRE(r.status == ParseStatus::kComplete);
  CHECK(r.consumed == text.find("GET /next"));
  CHECK(head.method == "GET");
  CHECK(head.version_minor == 1);
  CHECK(head.keep_alive);
  CHECK_FALSE(head.has_body);
  const Read read(text);
  REQUIRE(read.status.ok());
  const GatedRequest& q = read.request;
  CHECK(q.getMethod() == "GET");
  CHECK(q.path() == "/metrics");
  CHECK(q.query() == "collect[]=cpu");
  CHECK(q.get("accept-encoding") == "gzip");
  CHECK(q.get("Accept").substr(0, 27) == "application/openmetrics-tex");
  CHECK(q.get("X-Prometheus-Scrape-Timeout-Seconds") == "10");
}

TEST_CASE("every prefix of a valid request is incomplete, not an error") {
  const std::string text =
      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  HttpRequestHead head;
  for (std::size_t n = 0; n < text.size(); ++n) {
    CAPTURE(n);
    CHECK(Parse(text.substr(0, n), &head).status == ParseStatus::kIncomplete);
  }
  const ParseOutcome r = Parse(text, &head);
  REQUIRE(r.status == ParseStatus::kComplete);
  CHECK_FALSE(head.keep_alive);
}

TEST_CASE("bare LF line ends, header case and leading empty lines") {
  const std::string text =
      "\r\nHEAD / HTTP/1.0\nCONNECTION: Keep-Alive\nauthorization:  Basic "
      "eDp5 \n\n";
  HttpRequestHead head;
  REQUIRE(Parse(text, &head).status == ParseStatus::kComplete);
  CHECK(head.method == "HEAD");
  CHECK(head.version_minor == 0);
  CHECK(head.keep_alive);
  const Read read(text);
  REQUIRE(read.status.ok());
  CHECK(read.request.head_only());
  CHECK(read.request.get("Authorization") == "Basic eDp5");
}

TEST_CASE("absolute-form targets give the path") {
  CHECK(Read("GET http://h:9101/metrics?x HTTP/1.1\r\nHost: h\r\n\r\n")
            .request.path() == "/metrics");
  CHECK(Read("GET http://h:9101/metrics?x HTTP/1.1\r\nHost: h\r\n\r\n")
            .request.query() == "x");
  CHECK(Read("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n").request.path() == "/");
  CHECK(
      Read("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n").request.query().empty());
  // The authority ends at '?' too (RFC 3986 3.2): an empty path and a query.
  const Read q("GET HTTP://h:9101?collect[]=cpu HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(q.request.path() == "/");
  CHECK(q.request.query() == "collect[]=cpu");
}

TEST_CASE("the gate holds heads to Poco's limits") {
  // At each limit: accepted, and Poco reads it.
  const std::string method(kMaxMethod, 'M');
  const std::string name(kMaxFieldName, 'n');
  const std::string value(kMaxFieldValue, 'v');
  CHECK(Read(method + " / HTTP/1.1\r\nHost: h\r\n\r\n").status.ok());
  CHECK(
      Read("GET / HTTP/1.1\r\nHost: h\r\n" + name + ": v\r\n\r\n").status.ok());
  CHECK(
      Read("GET / HTTP/1.1\r\nHost: h\r\nX:" + value + "\r\n\r\n").status.ok());
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 1; i < kMaxHeaderFields; ++i) many += "X: y\r\n";
  CHECK(Read(many + "\r\n").status.ok());
  // One past each: refused by the gate, never handed to Poco.
  HttpRequestHead head;
  ParseOutcome r = Parse(method + "M / HTTP/1.1\r\nHost: h\r\n\r\n", &head);
  CHECK(r.error_status == 400);
  r = Parse("GET / HTTP/1.1\r\nHost: h\r\n" + name + "n: v\r\n\r\n", &head);
  CHECK(r.error_status == 431);
  r = Parse("GET / HTTP/1.1\r\nHost: h\r\nX:" + value + "v\r\n\r\n", &head);
  CHECK(r.error_status == 431);
}

TEST_CASE("bodies are flagged so the server closes after answering") {
  HttpRequestHead head;
  REQUIRE(
      Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n", &head)
          .status == ParseStatus::kComplete);
  CHECK(head.has_body);
  REQUIRE(
      Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &head)
          .status == ParseStatus::kComplete);
  CHECK_FALSE(head.has_body);
  REQUIRE(
      Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
            &head)
          .status == ParseStatus::kComplete);
  CHECK(head.has_body);
}

TEST_CASE("errors carry the status to answer") {
  struct Case {
    std::string text;
    int status;
  };
  const std::string big(kMaxRequestLine + 1, 'a');
  const Case cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"\x16\x03\x01", 400},  // a TLS hello, rejected before any line end
      {"GET /x HTTP/1.1\r\n\r\n", 400},  // no Host
      {"GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"GET /x HTTP/3.0\r\nHost: h\r\n\r\n", 505},
      {"GET /x HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
       "Content-Length: 2\r\n\r\n",
       400},
      {"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n"
       "\r\n",
       400},
      {"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
       "Transfer-Encoding: chunked\r\n\r\n",
       400},
      {"GET /" + big + " HTTP/1.1\r\n", 414},
      {"GET /" + big, 414},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(kMaxRequestHead, 'v'),
       431},
      {std::string("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n", 30), 400},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text.substr(0, 60));
    HttpRequestHead head;
    const ParseOutcome r = Parse(c.text, &head);
    CHECK(r.status == ParseStatus::kError);
    CHECK(r.error_status == c.status);
    CHECK(std::string(r.error).size() > 0);
  }
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < kMaxHeaderFields; ++i) many += "X: y\r\n";
  HttpRequestHead head;
  const ParseOutcome r = Parse(many + "\r\n", &head);
  CHECK(r.status == ParseStatus::kError);
  CHECK(r.error_status == 431);
}

TEST_CASE("HeaderListHas") {
  CHECK(HeaderListHas("keep-alive, Upgrade", "upgrade"));
  CHECK(HeaderListHas(" close ", "close"));
  CHECK_FALSE(HeaderListHas("closed", "close"));
  CHECK_FALSE(HeaderListHas("", "close"));
}

}  // namespace
}  // namespace sysmetrics
