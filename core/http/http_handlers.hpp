// The request handlers, and the factory that routes to them, in Poco's
// handler API.
//
// GET/HEAD of the metrics path scrapes; /health answers "ok"; / is a small
// HTML page; other methods on those paths get 405, other paths 404 (never
// Poco's 501 for a missing handler). The server decides which thread runs a
// handler (IsScrape: a worker; the rest: the I/O thread) and answers 401
// and 503 itself. Handlers write through BufferedResponse::sendBuffer and
// log the request. Router and handlers are immutable after construction
// and may run on any number of threads at once.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/http_exchange.hpp"
#include "scrape/exporter.hpp"

namespace sysmetrics {

struct RouteOptions {
  std::string metrics_path = "/metrics";
  // Scrape deadline: Prometheus' X-Prometheus-Scrape-Timeout-Seconds less
  // the margin, or the default when the header is absent or unusable.
  std::chrono::duration<double> timeout_margin{0.5};
  std::chrono::duration<double> default_scrape_timeout{10};
};

class Router final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  // exporter must outlive the router.
  Router(RouteOptions options, ExporterHolder* exporter);

  // Whether request is a scrape (runs on a worker, counts toward
  // max_requests).
  bool IsScrape(const GatedRequest& request) const;

  // The handler for request; never null. request must be a GatedRequest.
  std::unique_ptr<Poco::Net::HTTPRequestHandler> Route(
      const GatedRequest& request);

  // HTTPRequestHandlerFactory: Route() as a raw pointer the caller owns, as
  // Poco's contract has it.
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  RouteOptions options_;
  ExporterHolder* exporter_;
};

// Logs a served request at debug level: method, path, status, latency and
// client; with a scrape report, the format and each collector's time.
void LogRequest(const GatedRequest& request, int status,
                const ScrapeReport* report);

}  // namespace sysmetrics
