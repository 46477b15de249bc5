#include "http_server.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/RunnableAdapter.h>
#include <Poco/ThreadPool.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http_exchange.hpp"
#include "http_handlers.hpp"
#include "http_request.hpp"
#include "log.hpp"
#include "transport.hpp"

namespace sysmetrics {
namespace {

using std::chrono::milliseconds;

// Open connections at most. At the limit a new connection evicts the idle
// (or still-reading) connection closest to its deadline, so a flood of idle
// or slow clients cannot lock Prometheus out; file descriptors stay bounded.
// How often deadlines are checked: the resolution of every timeout.
constexpr milliseconds kSweepInterval{50};
// Idle scrape workers end after this long; the pool's thread then waits
// as long again before the pool ends it.
constexpr std::chrono::seconds kWorkerIdle{60};
// A response buffer left behind by a slow reader is freed above this.
constexpr std::size_t kKeepBuffer = std::size_t{64} * 1024;

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

std::int64_t ToNs(milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::string ErrnoText(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof buf);
}

// Who may touch a connection: the I/O thread while it waits in epoll
// (kReading, kWriting, kLingering), or the one worker running its scrape
// (kBusy). Ownership passes with the state; the owner hands it on as its
// last act.
enum class ConnState { kReading, kBusy, kWriting, kLingering };

// After a response that closes the connection, the client's unread bytes
// (the rest of an oversized request) are read and dropped for up to this
// long: closing with unread data sends a reset, which can destroy the
// response before the client reads it.
constexpr milliseconds kLinger{2000};
// Bytes read and dropped per wake-up of a lingering connection, and in all:
// a client that keeps sending after its answer must not hold the I/O
// thread, nor linger for long.
constexpr std::size_t kLingerBytesPerEvent = std::size_t{64} * 1024;
constexpr std::size_t kLingerBytesTotal = std::size_t{1024} * 1024;
// However steadily a client reads, one response is sent within this long:
// progress alone must not let a trickling reader keep its connection (and
// the response it holds) forever.
constexpr milliseconds kMaxResponseWrite{30000};
// Password checks (bcrypt, tens of milliseconds of CPU each) run at once at
// most; a verdict, once known, is cached and costs nothing.
constexpr int kMaxVerifying = 2;
// What HTTPRequest::get returns for an absent field.
const std::string kNoValue;

struct Connection {
  int fd = -1;
  std::unique_ptr<Transport> io;
  bool secure = false;  // TLS
  Poco::Net::SocketAddress client;
  std::string peer;  // client as "host:port", for logs
  std::string in;    // received, not yet consumed
  std::string out;   // a response the socket did not take at once
  std::size_t out_pos = 0;
  bool close_after_write = false;
  // The request head must be verified off the I/O thread (basic auth
  // without a cached verdict).
  bool verify = false;
  std::int64_t request_start = 0;  // first byte of the pending request head
  // When the connection last began to wait in a new state (accepted, its
  // response done, its response blocked): the I/O thread's, for eviction
  // and for the cap on how long one response may take to send.
  std::int64_t waiting_since = 0;
  std::size_t lingered = 0;  // bytes dropped while lingering
  // When a connection with no request pending closes: the I/O timeout
  // after accepting (a TLS handshake included), the keep-alive timeout
  // after a response. Fixed when set, so bytes that carry no request (TLS
  // records) cannot extend it.
  std::int64_t idle_deadline = 0;
  std::atomic<ConnState> state{ConnState::kReading};
  std::atomic<std::int64_t> deadline{0};
  // The request being served: the gate's framing, and Poco's reading of
  // the head (from the first head_size bytes of in).
  HttpRequestHead head;
  std::size_t head_size = 0;
  std::optional<GatedRequest> request;

  ~Connection() {
    io.reset();
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions server_options, ExporterHolder* holder)
      : options(std::move(server_options)),
        exporter(holder),
        router(RouteOptions{options.metrics_path, options.timeout_margin,
                            options.default_scrape_timeout},
               holder) {
    params->setTimeout(Poco::Timespan(options.io_timeout.count() * 1000));
    params->setKeepAliveTimeout(
        Poco::Timespan(options.keep_alive_timeout.count() * 1000));
    params->setServerName("sysmetrics");
  }

  ServerOptions options;
  ExporterHolder* exporter = nullptr;
  Router router;
  Poco::Net::HTTPServerParams::Ptr params =
      Poco::makeAuto<Poco::Net::HTTPServerParams>();
  Poco::Net::SocketAddress server_address;  // set by Start

  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  int spare_fd = -1;  // given up to accept-and-close when out of fds
  std::thread io_thread;
  std::atomic<bool> stopping{false};  // drain: no new connections
  std::atomic<bool> stop_io{false};   // I/O thread: exit
  std::atomic<bool> listener_closed{false};
  std::int64_t last_fd_warning = 0;

  // Every open connection, owned here; epoll and the worker queue hold the
  // raw pointer, valid until Close() takes it out of this map.
  std::mutex conns_mu;  // guards the map, not the connections
  std::unordered_map<Connection*, std::unique_ptr<Connection>> conns;
  std::atomic<int> connections{0};
  std::atomic<int> in_flight{0};  // worker jobs queued or running
  std::atomic<int> verifying{0};  // of those, password checks (bcrypt)

  // Connections workers hand back to the I/O thread to wait in epoll.
  struct Returned {
    Connection* connection;
    ConnState state;
    std::uint32_t events;
    std::int64_t deadline;
  };
  std::thread::id io_thread_id;
  std::mutex returned_mu;
  std::vector<Returned> returned;

  std::mutex web_mu;
  std::shared_ptr<const WebSecurity> web_current;  // swapped on reload

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::condition_variable workers_done;
  std::deque<Connection*> queue;
  int workers = 0;
  int idle_workers = 0;
  bool stop_workers = false;
  // Runs WorkerLoop; created by Start, after main has blocked the signals,
  // so its threads inherit the mask. Last member: its threads are joined
  // before anything they use is destroyed.
  Poco::RunnableAdapter<Impl> worker_loop{*this, &Impl::WorkerLoop};
  std::unique_ptr<Poco::ThreadPool> pool;

  ~Impl() {
    conns.clear();  // before the fds below, as each closes its own
    for (const int fd : {listen_fd, epoll_fd, wake_fd, spare_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }

  void Wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  // Hands the connection to epoll, waiting for events; the caller must not
  // touch it afterwards.
  // On a worker, the connection goes back to the I/O thread, which arms
  // it: only the I/O thread changes a connection to a waiting state, so
  // its sweep and eviction never race a worker that is about to let go.
  void Arm(Connection* c, ConnState state, std::uint32_t events,
           std::int64_t deadline) {
    if (std::this_thread::get_id() != io_thread_id) {
      {
        std::lock_guard lock(returned_mu);
        returned.push_back({c, state, events, deadline});
      }
      Wake();
      return;
    }
    // Draining: a connection a worker hands back to wait for another
    // request (or to linger) after BeginDrain looked at every connection
    // would stay open until its keep-alive timeout and hold up shutdown.
    if (stopping.load() &&
        (state == ConnState::kReading || state == ConnState::kLingering)) {
      Close(c);
      return;
    }
    c->deadline.store(deadline, std::memory_order_relaxed);
    // Re-arming in the same state (more of a head, more of a response)
    // does not make a connection younger: a client trickling bytes keeps
    // its age.
    if (c->state.load(std::memory_order_relaxed) != state) {
      c->waiting_since = NowNs();
    }
    c->state.store(state, std::memory_order_release);
    epoll_event ev{};
    ev.events = events | EPOLLONESHOT;
    ev.data.ptr = c;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
      // Cannot happen for a registered fd; if it does, the sweep closes
      // the connection at its deadline.
      Log(LogLevel::kWarn, "epoll_ctl failed", {{"error", ErrnoText(errno)}});
    }
  }

  void Close(Connection* c) {
    std::unique_ptr<Connection> owned;
    {
      std::lock_guard lock(conns_mu);
      auto node = conns.extract(c);
      if (!node.empty()) owned = std::move(node.mapped());
    }
    owned.reset();  // closes the socket, outside the lock
    connections.fetch_sub(1);
  }

  // --- the I/O thread -----------------------------------------------------

  void ArmReturned() {
    std::vector<Returned> batch;
    {
      std::lock_guard lock(returned_mu);
      batch.swap(returned);
    }
    for (const Returned& r : batch) {
      Arm(r.connection, r.state, r.events, r.deadline);
    }
  }

  void IoLoop() {
    io_thread_id = std::this_thread::get_id();
    std::vector<epoll_event> events(128);
    std::int64_t next_sweep = NowNs() + ToNs(kSweepInterval);
    while (!stop_io.load()) {
      const int n =
          ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                       static_cast<int>(kSweepInterval.count()));
      // Connections first: accepting may evict, and draining closes,
      // connections that could have an event later in this batch.
      bool accept = false;
      bool woken = false;
      for (int i = 0; i < n; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == &listen_fd) {
          accept = true;
        } else if (tag == &wake_fd) {
          woken = true;
        } else {
          OnEvent(static_cast<Connection*>(tag));
        }
      }
      if (woken) {
        std::uint64_t v = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd, &v, sizeof v);
        ArmReturned();
        if (stopping.load() && !listener_closed.load()) BeginDrain();
      }
      if (accept && listen_fd >= 0) Accept();
      const std::int64_t now = NowNs();
      if (now >= next_sweep) {
        Sweep(now);
        next_sweep = now + ToNs(kSweepInterval);
      }
    }
  }

  void Accept() {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr),
                               &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) OutOfFds();
        return;  // EAGAIN: drained the backlog
      }
      if (stopping.load()) {
        ::close(fd);
        continue;
      }
      if (connections.load() >= options.max_connections && !EvictOne()) {
        ::close(fd);  // every connection is in a request: refuse this one
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto owned = std::make_unique<Connection>();
      Connection* c = owned.get();
      c->fd = fd;
      c->peer = FormatPeer(addr);
      try {
        c->client = Poco::Net::SocketAddress(
            reinterpret_cast<const sockaddr*>(&addr), len);
      } catch (const Poco::Exception&) {
        // Not IPv4 or IPv6: the handlers see the wildcard address.
      }
      c->waiting_since = NowNs();
      c->idle_deadline = c->waiting_since + ToNs(options.io_timeout);
      c->deadline.store(c->idle_deadline);
      const std::shared_ptr<const WebSecurity> web = CurrentWeb();
      c->secure = web->tls != nullptr;
      c->io =
          web->tls != nullptr ? web->tls->Accept(fd) : MakePlainTransport(fd);
      if (c->io == nullptr) continue;  // owned closes fd
      {
        std::lock_guard lock(conns_mu);
        conns.emplace(c, std::move(owned));
      }
      connections.fetch_add(1);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLONESHOT;
      ev.data.ptr = c;
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        Log(LogLevel::kWarn, "epoll_ctl failed", {{"error", ErrnoText(errno)}});
        Close(c);
      }
    }
  }

  // Out of file descriptors, a connection waits in the backlog and keeps
  // the listener readable: accept it with the spare descriptor and close
  // it, or the loop would spin.
  void OutOfFds() {
    const std::int64_t now = NowNs();
    if (now - last_fd_warning > ToNs(milliseconds(10000))) {
      Log(LogLevel::kWarn,
          "out of file descriptors: refusing connections (raise "
          "LimitNOFILE)",
          {{"connections", std::to_string(connections.load())}});
      last_fd_warning = now;
    }
    if (EvictOne()) return;
    if (spare_fd >= 0) {
      ::close(spare_fd);
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) ::close(fd);
      spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
  }

  // Closes one waiting connection to make room, if any: a lingering one
  // (it has had its answer), else the one that has waited longest, whether
  // idle, still sending its head, or waiting for its client to read a
  // response. Oldest first, so that a flood of connections that never send
  // or never read cannot lock Prometheus out: its new connection is the
  // youngest, and the flood's own later connections evict the flood's
  // older ones. A connection whose scrape is running is never closed;
  // there are at most max_requests of those.
  bool EvictOne() {
    Connection* victim = nullptr;
    {
      std::lock_guard lock(conns_mu);
      std::pair<int, std::int64_t> best{0, 0};
      for (const auto& [c, owned] : conns) {
        const ConnState state = c->state.load(std::memory_order_acquire);
        std::pair<int, std::int64_t> key;
        if (state == ConnState::kLingering) {
          key = {0, 0};
        } else if (state == ConnState::kReading ||
                   state == ConnState::kWriting) {
          // Waiting in epoll: this thread owns it, so waiting_since is ours.
          key = {1, c->waiting_since};
        } else {
          continue;
        }
        if (victim == nullptr || key < best) {
          victim = c;
          best = key;
        }
      }
    }
    if (victim == nullptr) return false;
    // Waiting in epoll means the I/O thread (this one) owns it.
    Close(victim);
    return true;
  }

  static std::string FormatPeer(const sockaddr_storage& addr) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (addr.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
      return std::string(host) + ":" + std::to_string(port);
    }
    if (addr.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
      return "[" + std::string(host) + "]:" + std::to_string(port);
    }
    return "?";
  }

  // Closes every connection past its deadline that waits in epoll; the
  // ones with a worker are the worker's to finish.
  void Sweep(std::int64_t now) {
    std::vector<Connection*> expired;
    {
      std::lock_guard lock(conns_mu);
      for (const auto& [c, owned] : conns) {
        if (c->state.load(std::memory_order_acquire) == ConnState::kBusy) {
          continue;
        }
        if (c->deadline.load(std::memory_order_relaxed) <= now) {
          expired.push_back(c);
        }
      }
    }
    for (Connection* c : expired) {
      if (c->state.load() == ConnState::kWriting) {
        Log(LogLevel::kDebug, "client stopped reading: connection closed",
            {{"client", c->peer}});
      } else if (c->state.load() == ConnState::kReading && !c->in.empty()) {
        Log(LogLevel::kDebug, "request not received in time: connection closed",
            {{"client", c->peer}});
      }
      Close(c);
    }
  }

  void BeginDrain() {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    ::close(listen_fd);
    listen_fd = -1;
    // Idle connections and half-sent requests are not in flight: close
    // them now. A connection with a worker closes after its response.
    std::vector<Connection*> waiting;
    {
      std::lock_guard lock(conns_mu);
      for (const auto& [c, owned] : conns) {
        const ConnState state = c->state.load(std::memory_order_acquire);
        if (state == ConnState::kReading || state == ConnState::kLingering) {
          waiting.push_back(c);
        }
      }
    }
    for (Connection* c : waiting) Close(c);
    listener_closed.store(true);
  }

  void OnEvent(Connection* c) {
    if (c->state.load(std::memory_order_acquire) == ConnState::kLingering) {
      char buf[16 * 1024];
      std::size_t this_event = 0;
      for (;;) {
        const Transport::Result r = c->io->Read(buf, sizeof buf);
        if (r.status == Transport::Status::kOk) {
          this_event += r.bytes;
          c->lingered += r.bytes;
          if (c->lingered > kLingerBytesTotal) break;  // enough: close
          if (this_event < kLingerBytesPerEvent) continue;
          // Let the other connections have the thread; more next time.
          Arm(c, ConnState::kLingering, EPOLLIN, c->deadline.load());
          return;
        }
        if (r.status == Transport::Status::kWantRead) {
          Arm(c, ConnState::kLingering, EPOLLIN, c->deadline.load());
          return;
        }
        break;
      }
      Close(c);
      return;
    }
    if (c->state.load(std::memory_order_acquire) == ConnState::kWriting) {
      if (!FlushOut(c)) return;
      Advance(c);
      return;
    }
    // kReading. Read what is there (bounded: a head longer than the limit
    // is an error anyway), then see whether a request is complete.
    char buf[16 * 1024];
    for (;;) {
      const Transport::Result r = c->io->Read(buf, sizeof buf);
      if (r.status == Transport::Status::kOk) {
        if (c->in.empty()) c->request_start = NowNs();
        c->in.append(buf, r.bytes);
        if (c->in.size() > kMaxRequestHead ||
            (r.bytes < sizeof buf && !c->io->HasBuffered())) {
          break;
        }
        continue;
      }
      if (r.status == Transport::Status::kWantRead) break;
      if (r.status == Transport::Status::kWantWrite) {
        Arm(c, ConnState::kReading, EPOLLOUT, c->deadline.load());
        return;
      }
      // End of stream or an error: nothing more can be answered.
      if (r.status == Transport::Status::kFailed) {
        Log(LogLevel::kDebug, "connection failed",
            {{"client", c->peer}, {"error", c->io->LastError()}});
      }
      Close(c);
      return;
    }
    Advance(c);
  }

  // --- requests, on whichever thread owns the connection -------------------

  // Serves the requests buffered on c until one needs a worker, the socket
  // needs to drain, or more bytes are needed; then hands c on or closes it.
  void Advance(Connection* c) {
    for (;;) {
      HttpRequestHead& head = c->head;
      const ParseOutcome parsed = ParseRequestHead(c->in, &head);
      if (parsed.status == ParseStatus::kIncomplete) {
        if (stopping.load()) {
          Close(c);
          return;
        }
        std::int64_t deadline = 0;
        if (!c->in.empty()) {
          // A request's head must arrive whole within the I/O timeout,
          // however slowly its bytes trickle in.
          if (c->request_start == 0) c->request_start = NowNs();
          deadline = c->request_start + ToNs(options.io_timeout);
        } else {
          c->request_start = 0;
          deadline = c->idle_deadline;
        }
        Arm(c, ConnState::kReading, EPOLLIN, deadline);
        return;
      }
      c->request_start = 0;
      if (parsed.status == ParseStatus::kError) {
        BadRequest(c, parsed.error_status, parsed.error);
        if (!Finish(c)) return;
        continue;
      }
      c->head_size = parsed.consumed;
      c->request.emplace(c->client, c->peer, server_address, *params,
                         c->secure);
      if (const Status read = c->request->Read(
              std::string_view(c->in).substr(0, parsed.consumed));
          !read.ok()) {
        // The gate holds heads to Poco's limits, so this is a gap in the
        // gate; refuse the request rather than guess.
        BadRequest(c, 400, read.message().c_str());
        if (!Finish(c)) return;
        continue;
      }
      GatedRequest& request = *c->request;
      const std::shared_ptr<const WebSecurity> web = CurrentWeb();
      std::optional<bool> authorized = true;
      if (web->auth != nullptr &&
          !(web->health_without_auth && request.path() == "/health")) {
        const std::string& credentials =
            request.get(Poco::Net::HTTPRequest::AUTHORIZATION, kNoValue);
        authorized = credentials.empty() ? std::optional<bool>(false)
                                         : web->auth->Cached(credentials);
      }
      if (authorized.has_value() && !*authorized) {
        Unauthorized(c);
      } else if (!authorized.has_value() || router.IsScrape(request)) {
        // A scrape, or credentials to verify (bcrypt takes tens of
        // milliseconds): on a worker.
        c->verify = !authorized.has_value();
        // At most kMaxVerifying bcrypt checks at once: a flood of wrong
        // passwords must not take every worker from scrapes whose
        // credentials are cached. Beyond it, refused at once.
        if (c->verify && verifying.fetch_add(1) >= kMaxVerifying) {
          verifying.fetch_sub(1);
          c->verify = false;
          Refuse(c, /*verifying_busy=*/true);
          if (!Finish(c)) return;
          continue;
        }
        // Beyond the limit (or with no thread to run it), refused at once
        // rather than queued.
        const bool admitted = in_flight.fetch_add(1) < options.max_requests;
        if (admitted && Dispatch(c)) return;
        in_flight.fetch_sub(1);
        if (c->verify) {
          c->verify = false;
          verifying.fetch_sub(1);
        }
        Refuse(c);
      } else {
        Handle(c);
      }
      if (!Finish(c)) return;
    }
  }

  std::shared_ptr<const WebSecurity> CurrentWeb() {
    std::lock_guard lock(web_mu);
    return web_current;
  }

  // A head the gate (or Poco) refused: its status and why, then close.
  void BadRequest(Connection* c, int status, const char* why) {
    Log(LogLevel::kDebug, "bad request",
        {{"client", c->peer},
         {"status", std::to_string(status)},
         {"error", why}});
    c->in.clear();
    c->head_size = 0;
    Respond(c, /*keep_alive=*/false, /*head_only=*/false,
            [status, why](BufferedResponse& r) {
              const auto code =
                  static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status);
              SendText(r, code,
                       std::to_string(status) + " " +
                           Poco::Net::HTTPResponse::getReasonForStatus(code) +
                           ": " + why + "\n");
            });
  }

  void Unauthorized(Connection* c) {
    GatedRequest& request = *c->request;
    Respond(c, KeepAlive(c->head), request.head_only(),
            [&request](BufferedResponse& r) {
              r.requireAuthentication("sysmetrics");
              SendText(r, Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED,
                       "401 unauthorized\n");
              LogRequest(request, r.getStatus(), nullptr);
            });
  }

  // Runs the request's handler (Router) on this thread.
  void Handle(Connection* c) {
    GatedRequest& request = *c->request;
    Respond(c, KeepAlive(c->head), request.head_only(),
            [this, &request](BufferedResponse& r) {
              request.set_response(&r);
              router.Route(request)->handleRequest(request, r);
              request.set_response(nullptr);
            });
  }

  void Refuse(Connection* c, bool verifying_busy = false) {
    const std::string body =
        verifying_busy ? "503 too many password checks at once; try again\n"
                       : "503 too many concurrent scrapes (--max-requests " +
                             std::to_string(options.max_requests) + ")\n";
    GatedRequest& request = *c->request;
    Respond(c, KeepAlive(c->head), request.head_only(),
            [&request, &body](BufferedResponse& r) {
              r.set("Retry-After", "1");
              SendText(r, Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
                       body);
              LogRequest(request, r.getStatus(), nullptr);
            });
  }

  bool KeepAlive(const HttpRequestHead& head) const {
    return head.keep_alive && !head.has_body && !stopping.load();
  }

  // After a response that Respond() put on the wire or queued: drops the
  // request from the buffer and says whether the caller should go on
  // serving c (false: c was handed on or closed).
  bool Finish(Connection* c) {
    c->in.erase(0, c->head_size);
    c->head_size = 0;
    c->request.reset();
    if (c->out_pos < c->out.size()) {
      // The response has just begun to wait: only the I/O timeout can
      // bind yet (FlushOut applies kMaxResponseWrite from here on).
      Arm(c, ConnState::kWriting, EPOLLOUT, NowNs() + ToNs(options.io_timeout));
      return false;
    }
    if (c->close_after_write) {
      Linger(c);
      return false;
    }
    return true;
  }

  // Ends a connection after its last response: stops sending, then drops
  // whatever the client still sends until it closes or kLinger passes.
  void Linger(Connection* c) {
    if (stopping.load() || ::shutdown(c->fd, SHUT_WR) != 0) {
      Close(c);
      return;
    }
    Arm(c, ConnState::kLingering, EPOLLIN, NowNs() + ToNs(kLinger));
  }

  // Builds a response on this thread (fill writes it through Poco's
  // HTTPServerResponse into one string) and writes it: at once when the
  // socket takes it (the usual case), else the rest waits in c->out for
  // the I/O thread. The caller then calls Finish().
  template <class Fill>
  void Respond(Connection* c, bool keep_alive, bool head_only, Fill&& fill) {
    thread_local std::string wire;
    wire.clear();
    {
      BufferedResponse response(&wire, keep_alive, head_only);
      try {
        fill(response);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "request failed",
            {{"client", c->peer}, {"error", e.what()}});
      }
      if (!response.sent()) {
        wire.clear();
        BufferedResponse failed(&wire, keep_alive, head_only);
        SendText(failed, Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR,
                 "internal error\n");
      }
      keep_alive = response.keep_alive();
    }
    c->idle_deadline = NowNs() + ToNs(options.keep_alive_timeout);
    c->close_after_write = !keep_alive;
    c->out.clear();
    c->out_pos = 0;
    std::size_t off = 0;
    while (off < wire.size()) {
      const Transport::Result w =
          c->io->Write(wire.data() + off, wire.size() - off);
      if (w.status == Transport::Status::kOk) {
        off += w.bytes;
        continue;
      }
      if (w.status == Transport::Status::kWantWrite ||
          w.status == Transport::Status::kWantRead) {
        c->out.assign(wire, off);
        break;
      }
      c->close_after_write = true;  // the peer is gone
      c->out.clear();
      break;
    }
    ReleaseIfLarge(wire);
  }

  // For a response already waiting (kWriting, on the I/O thread, so
  // waiting_since is when it began to wait).
  std::int64_t WriteDeadline(const Connection* c) const {
    return std::min(NowNs() + ToNs(options.io_timeout),
                    c->waiting_since + ToNs(kMaxResponseWrite));
  }

  // Continues a response the socket did not take at once; false when c was
  // handed on or closed.
  bool FlushOut(Connection* c) {
    while (c->out_pos < c->out.size()) {
      const Transport::Result w =
          c->io->Write(c->out.data() + c->out_pos, c->out.size() - c->out_pos);
      if (w.status == Transport::Status::kOk) {
        c->out_pos += w.bytes;
        continue;
      }
      if (w.status == Transport::Status::kWantWrite ||
          w.status == Transport::Status::kWantRead) {
        // Progress moves the deadline: a slow reader is fine, a stopped
        // one is dropped after the I/O timeout, and none takes longer
        // than kMaxResponseWrite.
        Arm(c, ConnState::kWriting,
            w.status == Transport::Status::kWantWrite ? EPOLLOUT : EPOLLIN,
            WriteDeadline(c));
        return false;
      }
      Close(c);
      return false;
    }
    c->out.clear();
    c->out_pos = 0;
    if (c->out.capacity() > kKeepBuffer) std::string().swap(c->out);
    if (c->close_after_write) {
      Linger(c);
      return false;
    }
    return true;
  }

  // --- scrape workers -----------------------------------------------------

  // Queues c for a worker, starting one when none is idle for it (the
  // in-flight limit bounds how many run). False if no thread could start.
  bool Dispatch(Connection* c) {
    c->state.store(ConnState::kBusy, std::memory_order_release);
    std::lock_guard lock(queue_mu);
    queue.push_back(c);
    if (static_cast<int>(queue.size()) <= idle_workers) {
      queue_cv.notify_one();
      return true;
    }
    // Every request in flight (this one included) holds a worker until it
    // has answered; a worker that has answered but not yet come back for
    // the queue is not idle yet, but will take this one. Starting a thread
    // for it anyway, as a keep-alive client that asks again at once makes
    // happen on nearly every request, grew the pool towards max_requests
    // threads (and their stacks and buffers) for a handful of connections.
    if (workers >= in_flight.load()) return true;
    try {
      pool->start(worker_loop);
      ++workers;
      return true;
    } catch (const Poco::Exception& e) {
      queue.pop_back();
      // c stays kBusy: the caller, maybe a worker, answers it 503 and
      // hands it on. Marked waiting here, the I/O thread's sweep or
      // eviction could close it under that worker.
      Log(LogLevel::kWarn, "cannot start a scrape worker",
          {{"error", e.displayText()}});
      if (!queue.empty()) queue_cv.notify_one();
      return false;
    }
  }

  void WorkerLoop() {
    std::unique_lock lock(queue_mu);
    for (;;) {
      while (queue.empty() && !stop_workers) {
        ++idle_workers;
        const bool woken = queue_cv.wait_for(lock, kWorkerIdle, [this] {
          return !queue.empty() || stop_workers;
        });
        --idle_workers;
        if (!woken) break;
      }
      if (queue.empty()) break;
      Connection* c = queue.front();
      queue.pop_front();
      lock.unlock();
      ServeOnWorker(c);
      lock.lock();
    }
    --workers;
    workers_done.notify_all();
  }

  void ServeOnWorker(Connection* c) {
    if (c->verify) {
      c->verify = false;
      const std::shared_ptr<const WebSecurity> web = CurrentWeb();
      const bool ok = web->auth == nullptr ||
                      web->auth->Check(c->request->get(
                          Poco::Net::HTTPRequest::AUTHORIZATION, kNoValue));
      if (!ok) {
        Unauthorized(c);
        // in_flight first: a check's slot frees only once its request no
        // longer counts, so checks never hold more than kMaxVerifying.
        in_flight.fetch_sub(1);
        verifying.fetch_sub(1);
        if (Finish(c)) Advance(c);
        return;
      }
      verifying.fetch_sub(1);  // verified: from here an ordinary request
    }
    Handle(c);
    in_flight.fetch_sub(1);
    if (Finish(c)) Advance(c);
  }
};

HttpServer::HttpServer(ServerOptions options, ExporterHolder* exporter)
    : impl_(std::make_unique<Impl>(std::move(options), exporter)) {
  impl_->web_current = impl_->options.web != nullptr
                           ? impl_->options.web
                           : std::make_shared<const WebSecurity>();
}

HttpServer::~HttpServer() {
  if (impl_ != nullptr && impl_->io_thread.joinable()) {
    Shutdown(milliseconds(0));
  }
}

namespace {

// "host:port", "[v6]:port" or ":port" (all interfaces).
Result<std::pair<std::string, std::string>> SplitHostPort(
    const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return Status::Error("expected HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, listen.substr(colon + 1));
}

Result<int> Listen(const std::string& listen) {
  auto parts = SplitHostPort(listen);
  if (!parts.ok()) return Status::Error(parts.error());
  const auto& [host, port] = parts.value();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                               port.c_str(), &hints, &found);
  if (rc != 0) return Status::Error(gai_strerror(rc));
  std::string error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  a->ai_protocol);
    if (fd < 0) {
      error = ErrnoText(errno);
      continue;
    }
    // SO_REUSEADDR for restarts; not SO_REUSEPORT, which would let a
    // second exporter bind the same port silently and take half the
    // scrapes: a taken port is an error.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      break;
    }
    error = ErrnoText(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return Status::Error(error);
  return fd;
}

// The address fd is bound to; the wildcard address if that fails.
Poco::Net::SocketAddress BoundAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  try {
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      return {reinterpret_cast<const sockaddr*>(&addr), len};
    }
  } catch (const Poco::Exception&) {
    // Neither IPv4 nor IPv6.
  }
  return {};
}

}  // namespace

Result<std::string> HttpServer::Start() {
  Impl& s = *impl_;
  auto fd = Listen(s.options.listen);
  if (!fd.ok()) {
    return Status::Error("cannot listen on " + s.options.listen + ": " +
                         fd.error());
  }
  s.listen_fd = fd.value();
  s.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  s.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  s.spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (s.epoll_fd < 0 || s.wake_fd < 0) {
    return Status::Error("cannot start the server: " + ErrnoText(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &s.listen_fd;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.listen_fd, &ev);
  ev.data.ptr = &s.wake_fd;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.wake_fd, &ev);
  try {
    // Threads beyond max_requests cover a worker that has left WorkerLoop
    // but is not yet back in the pool when the next scrape needs one.
    s.pool = std::make_unique<Poco::ThreadPool>(
        "scrape", 1, 2 * std::max(1, s.options.max_requests) + 1,
        static_cast<int>(kWorkerIdle.count()));
  } catch (const Poco::Exception& e) {
    return Status::Error("cannot start the server: " + e.displayText());
  }
  s.server_address = BoundAddress(s.listen_fd);
  s.io_thread = std::thread(&Impl::IoLoop, impl_.get());
  return s.server_address.toString();
}

void HttpServer::SetWeb(std::shared_ptr<const WebSecurity> web) {
  std::lock_guard lock(impl_->web_mu);
  impl_->web_current =
      web != nullptr ? std::move(web) : std::make_shared<const WebSecurity>();
}

bool HttpServer::Shutdown(milliseconds drain) {
  if (impl_ == nullptr) return false;  // an earlier drain gave up
  Impl& s = *impl_;
  if (!s.io_thread.joinable()) return true;
  // Stop accepting (the listening socket closes at once, so a client
  // connecting during the drain is refused rather than left in the
  // backlog), close idle connections, let the requests in flight finish.
  s.stopping.store(true);
  s.Wake();
  const auto until = Clock::now() + drain;
  bool drained = false;
  for (;;) {
    if (s.listener_closed.load() && s.connections.load() == 0 &&
        s.in_flight.load() == 0) {
      drained = true;
      break;
    }
    if (Clock::now() >= until) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  if (!drained) {
    // A scrape is still running (a plugin ignoring its deadline): the
    // process is about to exit, so leave the threads to the exit rather
    // than wait for them. The Impl must outlive them, hence the leak.
    s.io_thread.detach();
    (void)impl_.release();
    return false;
  }
  s.stop_io.store(true);
  s.Wake();
  s.io_thread.join();
  std::unique_lock lock(s.queue_mu);
  s.stop_workers = true;
  s.queue_cv.notify_all();
  if (!s.workers_done.wait_for(lock, std::chrono::seconds(1),
                               [&s] { return s.workers == 0; })) {
    lock.unlock();
    (void)impl_.release();  // a worker still holds it; left to the exit
    return true;
  }
  lock.unlock();
  // Every WorkerLoop has returned or is returning: wait until its thread
  // is back in the pool, so none touches the Impl once it is destroyed.
  s.pool->joinAll();
  return true;
}

}  // namespace sysmetrics
