#include "http/http_handlers.hpp"

#include <Poco/Net/HTTPRequest.h>

#include <algorithm>
#include <ctime>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "common/text.hpp"
#include "http/gzip.hpp"
#include "scrape/scrape_query.hpp"
#include "scrape/text_format.hpp"
#include "util/log.hpp"
#include "util/number_format.hpp"

namespace sysmetrics {
namespace {

using Poco::Net::HTTPRequest;
using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatUtc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// The landing page: what runs, how it last went, where to look next. Plain
// HTML, no scripts, no external assets.
std::string IndexPage(std::string_view metrics_path, const Exporter* current) {
  const std::string path = HtmlEscape(metrics_path);
  std::string page =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
      "<title>sysmetrics</title>\n<style>body{font-family:sans-serif;"
      "margin:2em}table{border-collapse:collapse}td,th{border:1px solid "
      "#ccc;padding:.3em .6em;text-align:left}.ok{color:#070}"
      ".failed{color:#b00}</style></head>\n<body><h1>sysmetrics</h1>\n"
      "<p>Prometheus exporter for Linux host metrics, version " +
      HtmlEscape(CurrentBuildInfo().version) + ", plugin ABI " +
      std::to_string(SM_ABI_VERSION_MAJOR) + "." +
      std::to_string(SM_ABI_VERSION_MINOR) + ".</p>\n<ul><li><a href=\"" +
      path + "\">" + path +
      "</a> (metrics; <code>?collect[]=NAME</code> selects collectors)</li>"
      "<li><a href=\"/health\">/health</a></li></ul>\n<h2>Plugins</h2>\n";
  if (current == nullptr ||
      (current->collectors().empty() && current->refused().empty())) {
    return page + "<p>No plugins loaded.</p>\n</body></html>\n";
  }
  page +=
      "<table><tr><th>Plugin</th><th>Version</th><th>ABI</th><th>File</th>"
      "<th>Last scrape</th><th>Took</th><th>Errors since start</th>"
      "<th>Runs in</th></tr>\n";
  for (const auto& col : current->collectors()) {
    const PluginInfo& p = col->info();
    const Collector::LastScrape last = col->last_scrape();
    std::string status;
    std::string took;
    if (!last.seen) {
      status = "not scraped yet";
    } else if (last.success) {
      status = "<span class=\"ok\">ok</span> at " + FormatUtc(last.when);
    } else {
      status = "<span class=\"failed\">failed</span> at " +
               FormatUtc(last.when) + ": " + HtmlEscape(last.error);
    }
    if (last.seen) {
      AppendValue(took, last.seconds);
      took += " s";
    }
    page += "<tr><td>" + HtmlEscape(p.name) + "</td><td>" +
            HtmlEscape(p.version) + "</td><td>" + std::to_string(p.abi_major) +
            "." + std::to_string(p.abi_minor) + "</td><td>" +
            HtmlEscape(p.file) + "</td><td>" + status + "</td><td>" + took +
            "</td><td>" + std::to_string(col->errors()) + "</td><td>" +
            (col->isolated() ? "helper process, " +
                                   std::to_string(col->restarts()) + " restarts"
                             : std::string("the exporter")) +
            "</td></tr>\n";
  }
  // Enabled, but never started: why, in place of the last scrape.
  for (const RefusedCollector& r : current->refused()) {
    page += "<tr><td>" + HtmlEscape(r.name) + "</td><td></td><td></td><td>" +
            HtmlEscape(r.file) +
            "</td><td><span class=\"failed\">not loaded</span>: " +
            HtmlEscape(r.reason) + "</td><td></td><td></td><td></td></tr>\n";
  }
  return page + "</table>\n</body></html>\n";
}

// Time budget for a scrape: what Prometheus announces, less the margin so
// the response is on the wire before Prometheus gives up (never less than
// half the announced time), else the default.
Clock::duration ScrapeBudget(std::string_view header,
                             const RouteOptions& options) {
  std::chrono::duration<double> budget = options.default_scrape_timeout;
  if (const std::optional<double> seconds = ParseWhole<double>(header);
      seconds && *seconds > 0 && *seconds < 86400) {
    budget = std::chrono::duration<double>(
        std::max(*seconds / 2, *seconds - options.timeout_margin.count()));
  }
  return std::chrono::duration_cast<Clock::duration>(budget);
}

std::string FormatMs(Clock::duration d) {
  std::string s;
  AppendValue(s, std::chrono::duration<double, std::milli>(d).count());
  return s;
}

// The request as a GatedRequest: every request this server routes is one.
const GatedRequest& Gated(const HTTPServerRequest& request) {
  return dynamic_cast<const GatedRequest&>(request);
}

BufferedResponse& Buffered(HTTPServerResponse& response) {
  return dynamic_cast<BufferedResponse&>(response);
}

class NotFoundHandler final : public HTTPRequestHandler {
 public:
  void handleRequest(HTTPServerRequest& request,
                     HTTPServerResponse& response) override {
    SendText(Buffered(response), HTTPResponse::HTTP_NOT_FOUND,
             "404 not found\n");
    LogRequest(Gated(request), response.getStatus(), nullptr);
  }
};

class MethodNotAllowedHandler final : public HTTPRequestHandler {
 public:
  void handleRequest(HTTPServerRequest& request,
                     HTTPServerResponse& response) override {
    response.set("Allow", "GET, HEAD");
    SendText(Buffered(response), HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
             "405 method not allowed\n");
    LogRequest(Gated(request), response.getStatus(), nullptr);
  }
};

class HealthHandler final : public HTTPRequestHandler {
 public:
  void handleRequest(HTTPServerRequest& request,
                     HTTPServerResponse& response) override {
    SendText(Buffered(response), HTTPResponse::HTTP_OK, "ok\n");
    LogRequest(Gated(request), response.getStatus(), nullptr);
  }
};

class IndexHandler final : public HTTPRequestHandler {
 public:
  IndexHandler(const RouteOptions& options, ExporterHolder* exporter)
      : options_(options), exporter_(exporter) {}

  void handleRequest(HTTPServerRequest& request,
                     HTTPServerResponse& response) override {
    const std::string page =
        IndexPage(options_.metrics_path, exporter_->Get().get());
    response.setContentType("text/html; charset=utf-8");
    response.sendBuffer(page.data(), page.size());
    LogRequest(Gated(request), response.getStatus(), nullptr);
  }

 private:
  const RouteOptions& options_;
  ExporterHolder* exporter_;
};

// A fresh scrape, negotiated (format, gzip) and filtered (collect[],
// exclude[]); an unknown collector name is 400, a failure 500.
class MetricsHandler final : public HTTPRequestHandler {
 public:
  MetricsHandler(const RouteOptions& options, ExporterHolder* exporter)
      : options_(options), exporter_(exporter) {}

  void handleRequest(HTTPServerRequest& request,
                     HTTPServerResponse& response) override;

 private:
  const RouteOptions& options_;
  ExporterHolder* exporter_;
};

void MetricsHandler::handleRequest(HTTPServerRequest& request,
                                   HTTPServerResponse& response) {
  const GatedRequest& gated = Gated(request);
  // The body, and its gzip form, in this thread's response buffers: they
  // keep the size of a response, and they outlive this call until the
  // server has written the response from them (SendBorrowed).
  ResponseBuffers& buffers = ThreadResponseBuffers();
  std::string& body = buffers.body;
  std::string& compressed = buffers.compressed;
  thread_local ScrapeReport report;
  thread_local ScrapeOptions scrape;
  thread_local std::vector<std::string> names;
  // Field names and values made once, not as temporaries per scrape.
  static const std::string kEmpty;
  static const std::string kTimeoutHeader =
      "X-Prometheus-Scrape-Timeout-Seconds";
  static const std::string kAccept = "Accept";
  static const std::string kAcceptEncoding = "Accept-Encoding";
  static const std::string kVary = "Vary";
  static const std::string kVaryValue = "Accept, Accept-Encoding";
  static const std::string kContentEncoding = "Content-Encoding";
  static const std::string kGzip = "gzip";
  static const std::string kTextType(kTextContentType);
  static const std::string kOpenMetricsType(kOpenMetricsContentType);
  std::string_view out;
  bool scraped = false;
  try {
    std::shared_ptr<Exporter> current = exporter_->Get();
    scrape.deadline =
        Clock::now() +
        ScrapeBudget(request.get(kTimeoutHeader, kEmpty), options_);
    scrape.format = NegotiateFormat(request.get(kAccept, kEmpty));
    scrape.selected.clear();
    if (!gated.query().empty()) {
      names.clear();
      for (const auto& col : current->collectors()) {
        names.push_back(col->name());
      }
      Result<std::vector<bool>> selected =
          SelectCollectors(gated.query(), names, current->unavailable());
      if (!selected.ok()) {
        SendText(Buffered(response), HTTPResponse::HTTP_BAD_REQUEST,
                 "400 bad request: " + selected.error() + "\n");
        LogRequest(gated, response.getStatus(), nullptr);
        return;
      }
      scrape.selected = std::move(selected.value());
    }
    response.setContentType(scrape.format == ExpositionFormat::kOpenMetrics
                                ? kOpenMetricsType
                                : kTextType);
    body.clear();
    current->Scrape(scrape, &body, &report);
    scraped = true;
    response.set(kVary, kVaryValue);
    // A body that cannot be compressed goes out as it is.
    if (AcceptsGzip(request.get(kAcceptEncoding, kEmpty)) &&
        GzipCompress(body, &compressed).ok()) {
      response.set(kContentEncoding, kGzip);
      out = compressed;
    } else {
      out = body;
    }
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "request failed",
        {{"path", gated.path()}, {"error", e.what()}});
    response.erase(kVary);
    response.erase(kContentEncoding);
    response.setStatusAndReason(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
    response.setContentType("text/plain; charset=utf-8");
    out = "internal error\n";
    scraped = false;
  }
  Buffered(response).SendBorrowed(out);
  LogRequest(gated, response.getStatus(), scraped ? &report : nullptr);
}

}  // namespace

Router::Router(RouteOptions options, ExporterHolder* exporter)
    : options_(std::move(options)), exporter_(exporter) {}

bool Router::IsScrape(const GatedRequest& request) const {
  const std::string& method = request.getMethod();
  return request.path() == options_.metrics_path &&
         (method == HTTPRequest::HTTP_GET || method == HTTPRequest::HTTP_HEAD);
}

std::unique_ptr<HTTPRequestHandler> Router::Route(const GatedRequest& request) {
  const std::string& path = request.path();
  if (path != options_.metrics_path && path != "/health" && path != "/") {
    return std::make_unique<NotFoundHandler>();
  }
  const std::string& method = request.getMethod();
  if (method != HTTPRequest::HTTP_GET && method != HTTPRequest::HTTP_HEAD) {
    return std::make_unique<MethodNotAllowedHandler>();
  }
  if (path == options_.metrics_path) {
    return std::make_unique<MetricsHandler>(options_, exporter_);
  }
  if (path == "/health") return std::make_unique<HealthHandler>();
  return std::make_unique<IndexHandler>(options_, exporter_);
}

HTTPRequestHandler* Router::createRequestHandler(
    const HTTPServerRequest& request) {
  return Route(Gated(request)).release();
}

void LogRequest(const GatedRequest& request, int status,
                const ScrapeReport* report) {
  if (!LogEnabled(LogLevel::kDebug)) return;
  const std::string code = std::to_string(status);
  const std::string latency = FormatMs(Clock::now() - request.received());
  if (report == nullptr) {
    Log(LogLevel::kDebug, "request",
        {{"method", request.getMethod()},
         {"path", request.path()},
         {"status", code},
         {"latency_ms", latency},
         {"client", request.peer()}});
    return;
  }
  std::string times;
  for (const CollectorReport& r : report->collectors) {
    if (!times.empty()) times.push_back(',');
    times.append(r.name).push_back('=');
    AppendValue(times, r.seconds);
    if (!r.success) times.append("(failed)");
  }
  const std::string collect =
      FormatMs(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(report->seconds)));
  Log(LogLevel::kDebug, "request",
      {{"method", request.getMethod()},
       {"path", request.path()},
       {"status", code},
       {"latency_ms", latency},
       {"client", request.peer()},
       {"format", report->format == ExpositionFormat::kOpenMetrics
                      ? "openmetrics"
                      : "text"},
       {"collect_ms", collect},
       {"collectors", times}});
}

}  // namespace sysmetrics
