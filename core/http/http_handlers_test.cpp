#include "http/http_handlers.hpp"

#include <Poco/AutoPtr.h>
#include <doctest/doctest.h>

#include <string>

#include "http/http_exchange.hpp"
#include "http/http_request.hpp"

namespace sysmetrics {
namespace {

// One exchange through the gate, Poco's parser, the router and a handler,
// as the server runs it; the response as it goes on the wire.
struct Exchange {
  Poco::Net::SocketAddress address;
  std::string peer = "client";
  Poco::Net::HTTPServerParams::Ptr params =
      Poco::makeAuto<Poco::Net::HTTPServerParams>();
  GatedRequest request{address, peer, address, *params, false};
  Router router{RouteOptions{}, nullptr};
  std::string wire;

  explicit Exchange(std::string_view text) {
    HttpRequestHead head;
    const ParseOutcome r = ParseRequestHead(text, &head);
    REQUIRE(r.status == ParseStatus::kComplete);
    REQUIRE(request.Read(text.substr(0, r.consumed)).ok());
  }

  void Serve(bool keep_alive = true) {
    BufferedResponse response(&wire, keep_alive, request.head_only());
    request.set_response(&response);
    router.Route(request)->handleRequest(request, response);
    CHECK(response.sent());
    wire.append(response.borrowed_body());  // as the server writes it
  }
};

bool Has(const std::string& wire, std::string_view part) {
  return wire.find(part) != std::string::npos;
}

TEST_CASE("the router answers 404 for unknown paths, not Poco's 501") {
  Exchange e("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(e.router.IsScrape(e.request));
  e.Serve();
  CHECK(e.wire.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(Has(e.wire, "\r\nContent-Length: 14\r\n"));
  CHECK(Has(e.wire, "\r\nConnection: keep-alive\r\n"));
  CHECK(Has(e.wire, "\r\nServer: sysmetrics\r\n"));
  CHECK(Has(e.wire, "\r\nDate: "));
  CHECK(e.wire.size() > 14);
  CHECK(e.wire.substr(e.wire.size() - 18) == "\r\n\r\n404 not found\n");
}

TEST_CASE("other methods on known paths get 405 with Allow") {
  Exchange e("DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n");
  e.Serve(/*keep_alive=*/false);
  CHECK(e.wire.rfind("HTTP/1.1 405 ", 0) == 0);
  CHECK(Has(e.wire, "\r\nAllow: GET, HEAD\r\n"));
  CHECK(Has(e.wire, "\r\nConnection: close\r\n"));
}

TEST_CASE("health, and HEAD sends the length without the body") {
  Exchange get("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  get.Serve();
  CHECK(get.wire.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(Has(get.wire, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
  CHECK(get.wire.substr(get.wire.size() - 7) == "\r\n\r\nok\n");
  Exchange head("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n");
  head.Serve();
  CHECK(Has(head.wire, "\r\nContent-Length: 3\r\n"));
  CHECK(head.wire.substr(head.wire.size() - 4) == "\r\n\r\n");
}

TEST_CASE("scrapes are GET or HEAD of the metrics path, undecoded") {
  CHECK(Exchange("GET /metrics?collect[]=cpu HTTP/1.1\r\nHost: x\r\n\r\n")
            .router.IsScrape(
                Exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").request));
  Exchange head("HEAD /metrics HTTP/1.0\r\n\r\n");
  CHECK(head.router.IsScrape(head.request));
  Exchange post("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(post.router.IsScrape(post.request));
  Exchange encoded("GET /%6detrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(encoded.router.IsScrape(encoded.request));
}

TEST_CASE("the factory hands out handlers the caller owns") {
  Exchange e("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
      e.router.createRequestHandler(e.request));
  REQUIRE(handler != nullptr);
}

TEST_CASE("a response is sent once") {
  std::string wire;
  BufferedResponse r(&wire, true, false);
  SendText(r, Poco::Net::HTTPResponse::HTTP_OK, "x");
  CHECK_THROWS(r.sendBuffer("y", 1));
  CHECK(wire.substr(wire.size() - 5) == "\r\n\r\nx");
}

}  // namespace
}  // namespace sysmetrics
