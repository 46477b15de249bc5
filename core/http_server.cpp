#include "http_server.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <charconv>
#include <thread>

#include "gzip.hpp"
#include "log.hpp"
#include "text_format.hpp"

namespace sysmetrics {
namespace {

using Poco::Net::HTTPRequest;
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

std::string IndexPage(std::string_view metrics_path) {
  const std::string path = HtmlEscape(metrics_path);
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
         "<title>sysmetrics</title></head>\n<body><h1>sysmetrics</h1>\n"
         "<p>Prometheus exporter for Linux host metrics, version " +
         HtmlEscape(CurrentBuildInfo().version) + ".</p>\n<ul><li><a href=\"" +
         path + "\">" + path +
         "</a></li><li><a href=\"/health\">/health</a></li></ul>\n"
         "</body></html>\n";
}

// Time budget for a scrape: what Prometheus announces, less the margin so
// the response is on the wire before Prometheus gives up (never less than
// half the announced time), else the default.
Clock::duration ScrapeBudget(const HTTPServerRequest& request,
                             const ServerOptions& options) {
  const std::string& h = request.get("X-Prometheus-Scrape-Timeout-Seconds", "");
  double seconds = 0;
  const auto r = std::from_chars(h.data(), h.data() + h.size(), seconds);
  std::chrono::duration<double> budget = options.default_scrape_timeout;
  if (!h.empty() && r.ec == std::errc() && r.ptr == h.data() + h.size() &&
      seconds > 0 && seconds < 86400) {
    budget = std::chrono::duration<double>(
        std::max(seconds / 2, seconds - options.timeout_margin.count()));
  }
  return std::chrono::duration_cast<Clock::duration>(budget);
}

std::string FormatMs(Clock::duration d) {
  std::string s;
  AppendValue(s, std::chrono::duration<double, std::milli>(d).count());
  return s;
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(ExporterHolder* exporter, const ServerOptions* options,
          const std::string* index_html, std::atomic<int>* in_flight,
          std::atomic<int>* active)
      : exporter_(exporter),
        options_(options),
        index_html_(index_html),
        in_flight_(in_flight),
        active_(active) {}

  void handleRequest(HTTPServerRequest& request,
                     HTTPServerResponse& response) override {
    // Counted for the shutdown drain, which waits for handlers, not threads.
    struct Active {
      explicit Active(std::atomic<int>* n) : count(n) { ++*count; }
      ~Active() { --*count; }
      std::atomic<int>* count;
    } active(active_);
    request_ = &request;
    const Clock::time_point t0 = Clock::now();
    const std::string& uri = request.getURI();
    const std::string_view path =
        std::string_view(uri).substr(0, uri.find('?'));
    const std::string& method = request.getMethod();
    HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK;
    try {
      status = Route(request, response, path, method);
    } catch (const Poco::Exception& e) {
      // The client went away mid-response, typically; nothing to send.
      Log(LogLevel::kDebug, "request aborted",
          {{"path", path}, {"error", e.displayText()}});
      status = HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "request failed",
          {{"path", path}, {"error", e.what()}});
      status = HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
      if (!sent_) SendText(response, status, "internal error\n");
    }
    if (LogEnabled(LogLevel::kDebug)) {
      const std::string code = std::to_string(static_cast<int>(status));
      const std::string latency = FormatMs(Clock::now() - t0);
      const std::string client = request.clientAddress().toString();
      if (scraped_ && status == HTTPResponse::HTTP_OK) {
        const std::string collect =
            FormatMs(std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(report_.seconds)));
        Log(LogLevel::kDebug, "request",
            {{"method", method},
             {"path", path},
             {"status", code},
             {"latency_ms", latency},
             {"client", client},
             {"collect_ms", collect},
             {"collectors", CollectorTimes()}});
      } else {
        Log(LogLevel::kDebug, "request",
            {{"method", method},
             {"path", path},
             {"status", code},
             {"latency_ms", latency},
             {"client", client}});
      }
    }
  }

 private:
  // Sends the status line, the headers and the body with one write instead
  // of Poco's 4 KiB stream buffer: a 13 KB scrape leaves as one send and one
  // TCP segment on loopback, not four (about 10 us of CPU per scrape, see
  // DESIGN.md). Goes through the socket object, so TLS sockets encrypt it.
  void SendText(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
                std::string_view body,
                const std::string& type = "text/plain; charset=utf-8",
                bool head = false) {
    response.setStatusAndReason(status);
    response.setContentType(type);
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(request_);
    if (impl == nullptr) {  // not Poco's server: its own path
      if (head) {
        response.send();
      } else {
        response.sendBuffer(body.data(), body.size());
      }
      sent_ = true;
      return;
    }
    thread_local std::string wire;
    wire.clear();
    wire.append(response.getVersion()).push_back(' ');
    char code[16];
    const auto r =
        std::to_chars(code, code + sizeof code, static_cast<int>(status));
    wire.append(code, r.ptr)
        .append(" ")
        .append(response.getReason())
        .append("\r\n");
    for (const auto& header : response) {
      wire.append(header.first).append(": ").append(header.second);
      wire.append("\r\n");
    }
    wire.append("\r\n");
    if (!head) wire.append(body);
    sent_ = true;
    Poco::Net::StreamSocket& socket = impl->socket();
    // A client that stops reading costs this thread io_timeout, not forever.
    socket.setSendTimeout(Poco::Timespan(options_->io_timeout.count() *
                                         Poco::Timespan::MILLISECONDS));
    const char* data = wire.data();
    std::size_t left = wire.size();
    try {
      while (left > 0) {
        const int n = socket.sendBytes(
            data, static_cast<int>(std::min<std::size_t>(left, 1 << 30)));
        if (n <= 0) throw Poco::Net::NetException("connection closed");
        data += n;
        left -= static_cast<std::size_t>(n);
      }
    } catch (const Poco::Exception&) {
      // Half a response is on the wire: the connection cannot be reused.
      response.setKeepAlive(false);
      try {
        socket.shutdown();
      } catch (const Poco::Exception&) {  // NOLINT(bugprone-empty-catch)
      }
      throw;
    }
  }

  HTTPResponse::HTTPStatus Route(HTTPServerRequest& request,
                                 HTTPServerResponse& response,
                                 std::string_view path,
                                 const std::string& method) {
    const bool known =
        path == options_->metrics_path || path == "/health" || path == "/";
    if (!known) {
      SendText(response, HTTPResponse::HTTP_NOT_FOUND, "404 not found\n");
      return HTTPResponse::HTTP_NOT_FOUND;
    }
    const bool head = method == HTTPRequest::HTTP_HEAD;
    if (method != HTTPRequest::HTTP_GET && !head) {
      response.set("Allow", "GET, HEAD");
      SendText(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
               "405 method not allowed\n");
      return HTTPResponse::HTTP_METHOD_NOT_ALLOWED;
    }
    if (path == "/health") {
      SendText(response, HTTPResponse::HTTP_OK, "ok\n",
               "text/plain; charset=utf-8", head);
    } else if (path == "/") {
      SendText(response, HTTPResponse::HTTP_OK, *index_html_,
               "text/html; charset=utf-8", head);
    } else {
      scraped_ = true;
      return ServeMetrics(request, response, head);
    }
    return HTTPResponse::HTTP_OK;
  }

  HTTPResponse::HTTPStatus ServeMetrics(HTTPServerRequest& request,
                                        HTTPServerResponse& response,
                                        bool head) {
    // Counted from entry to exit: a scrape beyond the limit is refused at
    // once instead of queueing behind the others.
    struct InFlight {
      explicit InFlight(std::atomic<int>* n) : count(n) { ++*count; }
      ~InFlight() { --*count; }
      std::atomic<int>* count;
    } in_flight(in_flight_);
    if (in_flight_->load() > options_->max_requests) {
      response.set("Retry-After", "1");
      SendText(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
               "503 too many concurrent scrapes (--max-requests " +
                   std::to_string(options_->max_requests) + ")\n");
      return HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
    }
    std::shared_ptr<Exporter> exporter = exporter_->Get();
    ScrapeOptions options;
    options.deadline = Clock::now() + ScrapeBudget(request, *options_);
    // One buffer per server thread, reused: after the first scrapes it has
    // the size of a response and the scrape path stops allocating for it.
    thread_local std::string body;
    thread_local std::string compressed;
    body.clear();
    exporter->Scrape(options, &body, &report_);
    response.set("Vary", "Accept-Encoding");
    if (AcceptsGzip(request.get("Accept-Encoding", "")) &&
        GzipCompress(body, &compressed)) {
      response.set("Content-Encoding", "gzip");
      SendText(response, HTTPResponse::HTTP_OK, compressed,
               std::string(kTextContentType), head);
    } else {
      SendText(response, HTTPResponse::HTTP_OK, body,
               std::string(kTextContentType), head);
    }
    return HTTPResponse::HTTP_OK;
  }

  // The per-collector durations of the last scrape, for the request log.
  std::string CollectorTimes() const {
    std::string out;
    for (const CollectorReport& r : report_.collectors) {
      if (!out.empty()) out.push_back(',');
      out.append(r.name).push_back('=');
      AppendValue(out, r.seconds);
      if (!r.success) out.append("(failed)");
    }
    return out;
  }

  ExporterHolder* exporter_;
  const ServerOptions* options_;
  const std::string* index_html_;
  std::atomic<int>* in_flight_;
  std::atomic<int>* active_;
  ScrapeReport report_;
  HTTPServerRequest* request_ = nullptr;
  bool scraped_ = false;
  bool sent_ = false;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(ExporterHolder* exporter, const ServerOptions* options,
          std::atomic<int>* active)
      : exporter_(exporter),
        options_(options),
        index_html_(IndexPage(options->metrics_path)),
        active_(active) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const HTTPServerRequest& /*request*/) override {
    return new Handler(exporter_, options_, &index_html_, &in_flight_, active_);
  }

 private:
  ExporterHolder* exporter_;
  const ServerOptions* options_;
  std::string index_html_;
  std::atomic<int> in_flight_{0};
  std::atomic<int>* active_;
};

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  ExporterHolder* exporter = nullptr;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  Poco::Net::ServerSocket listener;  // shares the server's socket
  std::atomic<int> active{0};        // requests being handled
};

HttpServer::HttpServer(ServerOptions options, ExporterHolder* exporter)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->exporter = exporter;
}

HttpServer::~HttpServer() {
  if (impl_->server != nullptr) Shutdown(std::chrono::milliseconds(0));
}

Result<std::string> HttpServer::Start() {
  try {
    const Poco::Net::SocketAddress address(impl_->options.listen);
    // Poco's ServerSocket(address, backlog) also sets SO_REUSEPORT, which
    // lets a second exporter bind the same port silently and steal half the
    // scrapes. Bind with SO_REUSEADDR only, so a taken port is an error.
    Poco::Net::ServerSocket socket;
    socket.bind(address, /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(128);
    auto* params = new Poco::Net::HTTPServerParams();
    const int threads =
        impl_->options.max_requests + impl_->options.idle_reserve;
    params->setMaxThreads(threads);
    params->setMaxQueued(256);
    params->setTimeout(
        Poco::Timespan(impl_->options.io_timeout.count() * 1000));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(
        Poco::Timespan(impl_->options.keep_alive_timeout.count() * 1000));
    params->setMaxKeepAliveRequests(0);  // unlimited
    params->setServerName("sysmetrics");
    params->setSoftwareVersion("sysmetrics/" + CurrentBuildInfo().version);
    // Threads are made on demand and end after 60 s idle; small stacks, since
    // a handler's large buffers live on the heap.
    impl_->pool =
        std::make_unique<Poco::ThreadPool>(2, threads + 1, 60, 256 * 1024);
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(
        new Factory(impl_->exporter, &impl_->options, &impl_->active),
        *impl_->pool, socket, params);
    impl_->server->start();
    impl_->listener = socket;
    return socket.address().toString();
  } catch (const Poco::Exception& e) {
    return Status::Error("cannot listen on " + impl_->options.listen + ": " +
                         e.displayText());
  }
}

bool HttpServer::Shutdown(std::chrono::milliseconds drain) {
  if (impl_->server == nullptr) return true;
  // stopAll(false): stop accepting, let current requests complete, then
  // close idle keep-alive connections.
  impl_->server->stopAll(false);
  // stopAll joined the accept thread but leaves the socket open until the
  // server is destroyed: a client connecting during the drain would sit in
  // the listen backlog until then. Close it now so new connections are
  // refused at once.
  try {
    impl_->listener.close();
  } catch (const Poco::Exception&) {  // NOLINT(bugprone-empty-catch)
  }
  // Drained when no request is being handled and no connection is open.
  // Not when the pool is idle: Poco's dispatcher threads wait out their idle
  // time (10 s) in the pool after the last connection, which would hold the
  // exit for nothing.
  const auto until = Clock::now() + drain;
  bool drained = false;
  for (;;) {
    if (impl_->active.load() == 0 && impl_->server->currentConnections() == 0) {
      drained = true;
      break;
    }
    if (Clock::now() >= until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The process is about to exit: leave the server and its pool (whose idle
  // threads would each take up to their idle time to join) to the exit
  // rather than block on them.
  (void)impl_->server.release();
  (void)impl_->pool.release();
  return drained;
}

}  // namespace sysmetrics
