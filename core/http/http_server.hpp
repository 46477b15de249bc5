// HttpServer: the HTTP/1.1 edge of sysmetrics.
//
// One reactor thread (Poco SocketReactor) accepts connections, reads request
// heads until the gate (http_request.hpp) finds one whole, and writes responses
// the socket did not take at once; Poco reads each head (GatedRequest) and Poco
// request handlers answer it (Router, http_handlers.hpp): GET/HEAD /metrics
// (a fresh scrape per request), /health and / (a small HTML page); other
// paths get 404 and other methods 405. Scrapes run on a Poco::ThreadPool,
// at most max_requests in flight and at most one per CPU the process may
// use computing at once (worker_queue.hpp); the rest wait their turn in a
// queue. A connection costs no thread while it is
// idle, slow to send its request or slow to read its response, so such
// clients cannot keep Prometheus waiting. Start() binds and returns the
// bound address; Shutdown() stops accepting, lets in-flight requests finish
// up to a bound and returns whether the drain completed.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http/basic_auth.hpp"
#include "http/transport.hpp"
#include "scrape/exporter.hpp"
#include "util/status.hpp"

namespace sysmetrics {

// TLS and authentication ([web]); swapped whole on reload. New
// connections use the TLS context current when they are accepted; every
// request is checked against the users current when it arrives.
struct WebSecurity {
  std::shared_ptr<TlsContext> tls;  // null: plain HTTP
  std::shared_ptr<BasicAuth> auth;  // null: no authentication
  bool health_without_auth = false;
};

struct ServerOptions {
  std::string listen = "0.0.0.0:9101";
  std::string metrics_path = "/metrics";
  // Scrapes in flight at once; more are answered 503 at once.
  int max_requests = 40;
  // Open connections kept; beyond it, a waiting one (a lingering one, else
  // the one that has waited longest, idle, half-sent or unread) is closed
  // to make room.
  int max_connections = 1024;
  // A request head must arrive whole, and a stalled response move on,
  // within io_timeout; an idle keep-alive connection closes after
  // keep_alive_timeout.
  std::chrono::milliseconds io_timeout{3000};
  std::chrono::milliseconds keep_alive_timeout{60000};
  // Scrape deadline: Prometheus' X-Prometheus-Scrape-Timeout-Seconds less
  // the margin, or the default when the header is absent or unusable.
  std::chrono::duration<double> timeout_margin{0.5};
  std::chrono::duration<double> default_scrape_timeout{10};
  std::shared_ptr<const WebSecurity> web;  // null: plain, open
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, ExporterHolder* exporter);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; returns the bound "host:port".
  Result<std::string> Start();
  // Replaces the TLS and authentication settings (SIGHUP).
  void SetWeb(std::shared_ptr<const WebSecurity> web);
  // Stops accepting and waits up to drain for in-flight requests; true if
  // all finished, and the server's threads are then joined. False leaves
  // the requests running; the destructor waits for them (main exits
  // instead while one is stuck in a plugin).
  bool Shutdown(std::chrono::milliseconds drain);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sysmetrics
