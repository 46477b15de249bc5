// HttpServer: the Poco HTTPServer edge of sysmetrics.
//
// Routes GET/HEAD /metrics (a fresh scrape per request), /health and / (a
// small HTML page); other paths get 404 and other methods 405. This is the
// only place Poco.Net appears. Start() binds and returns the bound address;
// Shutdown() stops accepting, lets in-flight requests finish up to a bound
// and returns whether the drain completed. Thread-safe after Start().
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "exporter.hpp"
#include "status.hpp"

namespace sysmetrics {

struct ServerOptions {
  std::string listen = "0.0.0.0:9101";
  std::string metrics_path = "/metrics";
  int max_threads = 16;
  std::chrono::milliseconds io_timeout{3000};
  std::chrono::milliseconds keep_alive_timeout{10000};
  std::chrono::milliseconds default_scrape_timeout{10000};
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, ExporterHolder* exporter);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; returns the bound "host:port".
  Result<std::string> Start();
  // Stops accepting and waits up to drain for in-flight requests; true if
  // all finished.
  bool Shutdown(std::chrono::milliseconds drain);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sysmetrics
