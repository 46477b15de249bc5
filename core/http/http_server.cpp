#include "http/http_server.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/NObserver.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/SocketNotification.h>
#include <Poco/Net/SocketReactor.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/RunnableAdapter.h>
#include <Poco/Thread.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <functional>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/thread_annotations.hpp"
#include "http/http_exchange.hpp"
#include "http/http_handlers.hpp"
#include "http/http_request.hpp"
#include "http/transport.hpp"
#include "http/worker_queue.hpp"
#include "util/cpus.hpp"
#include "util/log.hpp"
#include "util/step_aside.hpp"

namespace sysmetrics {
namespace {

using std::chrono::milliseconds;

// How long the reactor waits in epoll when nothing happens: the resolution
// of every deadline, and how soon a drain begins.
constexpr milliseconds kSweepInterval{50};
// Idle scrape workers end after this long; the pool's thread then waits
// as long again before the pool ends it.
constexpr std::chrono::seconds kWorkerIdle{60};
// How long accepting pauses when accept() fails for want of resources.
constexpr milliseconds kAcceptPause{100};
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

// Who may touch a connection: the reactor thread while it waits for the
// socket (kReading, kWriting, kLingering), or the one thread serving its
// request (kBusy, kParked). Ownership passes with the state; the owner
// hands it on as its last act. kParked: busy, and the reactor has dropped
// the read registration a worker's connection keeps (an event came while
// the worker had it), so the worker must hand it back through the queue.
enum class ConnState { kReading, kBusy, kWriting, kLingering, kParked };
// Which readiness a connection waits for in the reactor. Exactly one
// observer at a time: Poco's PollSet is level-triggered, so a connection
// must not be watched for what it does not wait for. The one exception is
// bounded: a connection keeps its read registration while a worker has it,
// and the first event in that time parks it (kParked), unwatched.
enum class Interest { kNone, kRead, kWrite };

// After a response that closes the connection, the client's unread bytes
// (the rest of an oversized request) are read and dropped for up to this
// long: closing with unread data sends a reset, which can destroy the
// response before the client reads it.
constexpr milliseconds kLinger{2000};
// Bytes read and dropped per wake-up of a lingering connection, and in all:
// a client that keeps sending after its answer must not hold the reactor
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

struct Connection;

// Receives a connection's socket events on the reactor thread.
class ConnectionEvents {
 public:
  virtual void OnEvent(Connection* c) = 0;

 protected:
  ~ConnectionEvents() = default;
};

// One accepted connection: its Poco socket (which owns the descriptor),
// its transport and the request it is serving. Owned by the server's map;
// the reactor's observers point at it only while it is watched.
struct Connection {
  Connection(ConnectionEvents* events, const Poco::Net::StreamSocket& sock,
             const Poco::Net::SocketAddress& from)
      : owner(events), socket(sock), client(from), peer(from.toString()) {}

  // Poco observer callbacks: both mean "the socket may have moved".
  void OnReadable(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
    owner->OnEvent(this);
  }
  void OnWritable(const Poco::AutoPtr<Poco::Net::WritableNotification>&) {
    owner->OnEvent(this);
  }

  ConnectionEvents* owner;
  Poco::Net::StreamSocket socket;  // declared before io: outlives it
  std::unique_ptr<Transport> io;
  Interest watching = Interest::kNone;  // its owner's to change
  bool secure = false;                  // TLS
  Poco::Net::SocketAddress client;
  std::string peer;  // client as "host:port", for logs
  std::string in;    // received, not yet consumed
  std::string out;   // a response the socket did not take at once
  std::size_t out_pos = 0;
  bool close_after_write = false;
  // The request head must be verified off the reactor thread (basic auth
  // without a cached verdict).
  bool verify = false;
  // The request holds a place in in_flight, given back as its response is
  // written (before: a client that asks again at once would find its own
  // last scrape still counted, and could be refused for it).
  bool counted = false;
  std::int64_t request_start = 0;  // first byte of the pending request head
  // When the connection last began to wait in a new state (accepted, its
  // response done, its response blocked), for eviction and for the cap on
  // how long one response may take to send. Written by the owner before it
  // hands the connection to the reactor, read by the reactor thread.
  std::int64_t waiting_since = 0;
  std::size_t lingered = 0;  // bytes dropped while lingering
  // Set by the reactor when it hands c to a worker: c is still watched for
  // reading, so a worker done with it can hand it back by its state alone.
  bool read_kept = false;
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
};

// Poco's reactor, with its idle, busy and timeout hooks calling tick (the
// deadline sweep) instead of broadcasting notifications nobody observes.
class Reactor final : public Poco::Net::SocketReactor {
 public:
  explicit Reactor(std::function<void()> tick)
      : Poco::Net::SocketReactor(Poco::Timespan(
            std::chrono::duration_cast<std::chrono::microseconds>(
                kSweepInterval)
                .count())),
        tick_(std::move(tick)) {}

 protected:
  void onBusy() override { tick_(); }
  void onTimeout() override { tick_(); }
  void onIdle() override { tick_(); }
  void onShutdown() override {}

 private:
  std::function<void()> tick_;
};

}  // namespace

struct HttpServer::Impl final : ConnectionEvents {
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

  Reactor reactor{[this] { Tick(); }};
  Poco::Net::ServerSocket listener;
  bool listening = false;  // the listener is watched (reactor thread's)
  // Held open and given up to accept-and-close when out of descriptors.
  int spare_fd = -1;
  Poco::Thread reactor_thread{"http-reactor"};
  std::atomic<bool> stopping{false};  // drain: no new connections
  std::atomic<bool> listener_closed{false};
  std::int64_t last_fd_warning = 0;
  std::int64_t next_sweep = 0;     // reactor thread's
  std::int64_t accept_resume = 0;  // when to watch the listener again

  // Every open connection, owned here; the reactor's observers, the worker
  // queue and the returned queue hold the raw pointer, valid until Close()
  // takes it out of this map.
  Mutex conns_mu;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> conns
      GUARDED_BY(conns_mu);
  std::atomic<int> connections{0};
  std::atomic<int> in_flight{0};  // worker jobs queued or running
  std::atomic<int> verifying{0};  // of those, password checks (bcrypt)

  // Connections workers hand back, for the reactor thread to arm, and the
  // socket pair that wakes it for them: loopback datagrams, each socket
  // connected to the other, so no other process can send to the receiver.
  struct Returned {
    Connection* connection;
    ConnState state;
    Interest want;
    std::int64_t deadline;
    bool close;  // close it instead
  };
  Mutex returned_mu;
  std::vector<Returned> returned GUARDED_BY(returned_mu);
  Poco::Net::DatagramSocket wake_rx;
  Poco::Net::DatagramSocket wake_tx;

  Mutex web_mu;
  // Swapped on reload.
  std::shared_ptr<const WebSecurity> web_current GUARDED_BY(web_mu);

  // Scrapes and password checks. Last member: its threads are joined
  // before anything they use is destroyed.
  WorkerQueue<Connection*> workers{kWorkerIdle,
                                   [this](Connection* c) { ServeOnWorker(c); }};

  ~Impl() {
    conns.clear();  // each closes its own socket
    if (spare_fd >= 0) ::close(spare_fd);
  }

  // --- registration with the reactor --------------------------------------

  using ReadObserver =
      Poco::NObserver<Connection, Poco::Net::ReadableNotification>;
  using WriteObserver =
      Poco::NObserver<Connection, Poco::Net::WritableNotification>;

  // Makes the reactor watch c for want, and nothing else. On the reactor
  // thread. False if the reactor refused (c is then unwatched).
  bool Watch(Connection* c, Interest want) {
    if (c->watching == want) return true;
    Unwatch(c);
    c->watching = want;
    try {
      if (want == Interest::kRead) {
        reactor.addEventHandler(c->socket,
                                ReadObserver(*c, &Connection::OnReadable));
      } else if (want == Interest::kWrite) {
        reactor.addEventHandler(c->socket,
                                WriteObserver(*c, &Connection::OnWritable));
      }
      return true;
    } catch (const Poco::Exception& e) {
      Log(LogLevel::kWarn, "cannot watch a connection",
          {{"client", c->peer}, {"error", e.displayText()}});
      Unwatch(c);
      return false;
    }
  }

  // Only on the reactor thread, or for an unwatched connection.
  void Unwatch(Connection* c) {
    assert(c->watching == Interest::kNone || OnReactorThread());
    const Interest was = std::exchange(c->watching, Interest::kNone);
    try {
      if (was == Interest::kRead) {
        reactor.removeEventHandler(c->socket,
                                   ReadObserver(*c, &Connection::OnReadable));
      } else if (was == Interest::kWrite) {
        reactor.removeEventHandler(c->socket,
                                   WriteObserver(*c, &Connection::OnWritable));
      }
    } catch (const Poco::Exception&) {
      // The socket is out of the reactor's map either way.
    }
  }

  // Hands c to the reactor to wait in state for want, until deadline; the
  // caller must not touch it afterwards. Only the reactor thread registers
  // connections and moves them into a waiting state: a worker queues c
  // for it (Returned) and wakes it. So the reactor's sweep and eviction,
  // which close waiting connections, never meet one a worker still holds,
  // and every change to the reactor's tables happens on its own thread.
  void Arm(Connection* c, ConnState state, Interest want,
           std::int64_t deadline) {
    if (!OnReactorThread()) {
      // Kept for reading and wanted for reading: publishing the state is
      // the whole hand-back, unless the reactor parked c meanwhile. (A
      // drain that began meanwhile closes it at the reactor's next tick.)
      if (want == Interest::kRead && c->read_kept && !stopping.load()) {
        c->deadline.store(deadline, std::memory_order_relaxed);
        c->waiting_since = NowNs();
        ConnState busy = ConnState::kBusy;
        if (c->state.compare_exchange_strong(busy, state,
                                             std::memory_order_acq_rel)) {
          return;
        }
      }
      Return({c, state, want, deadline, /*close=*/false});
      return;
    }
    // Draining: a connection handed back to wait for another request (or
    // to linger) after BeginDrain looked at every connection would stay
    // open until its keep-alive timeout and hold up shutdown.
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
    if (!Watch(c, want)) {
      // Cannot happen short of memory; the sweep closes it at its deadline.
      Log(LogLevel::kDebug, "connection left to its deadline",
          {{"client", c->peer}});
    }
  }

  // Queues c for the reactor thread (to arm, or to close) and wakes it.
  void Return(const Returned& r) {
    bool wake = false;
    {
      MutexLock lock(returned_mu);
      wake = returned.empty();  // else a wake-up is on its way
      returned.push_back(r);
    }
    if (wake) Wake();
  }

  // Closes c from its owner: at once on the reactor thread; from a worker
  // through the reactor thread, which may still watch it.
  void Release(Connection* c) {
    if (OnReactorThread()) {
      Close(c);
    } else {
      Return({c, ConnState::kBusy, Interest::kNone, 0, /*close=*/true});
    }
  }

  // Wakes the reactor thread to arm the connections workers handed back.
  void Wake() {
    try {
      const char one = 1;
      wake_tx.sendBytes(&one, 1);
    } catch (const Poco::Exception&) {
      // EAGAIN: the socket is full of wake-ups already.
    }
  }

  // The reactor thread's side of Wake: drains the wake-ups first, so that
  // one sent after the queue is taken is not lost, then arms the queue.
  void OnWake(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
    char buf[64];
    try {
      while (wake_rx.receiveBytes(buf, sizeof buf) > 0) {
      }
    } catch (const Poco::Exception&) {
      // Nothing left to read.
    }
    std::vector<Returned> batch;
    {
      MutexLock lock(returned_mu);
      batch.swap(returned);
    }
    for (const Returned& r : batch) {
      if (r.close) {
        Close(r.connection);
      } else {
        Arm(r.connection, r.state, r.want, r.deadline);
      }
    }
  }
  using WakeObserver = Poco::NObserver<Impl, Poco::Net::ReadableNotification>;

  // Closes c: by its owner (a waiting connection's is the reactor thread).
  void Close(Connection* c) {
    Unwatch(c);
    std::unique_ptr<Connection> owned;
    {
      MutexLock lock(conns_mu);
      auto node = conns.extract(c);
      if (!node.empty()) owned = std::move(node.mapped());
    }
    owned.reset();  // closes the socket, outside the lock
    connections.fetch_sub(1);
  }

  // --- the reactor thread -------------------------------------------------

  // Every pass of the reactor loop: begin the drain once asked, and close
  // connections past their deadlines every kSweepInterval.
  void Tick() {
    if (stopping.load()) {
      if (listener_closed.load()) {
        CloseIdle();
      } else {
        BeginDrain();
      }
    }
    const std::int64_t now = NowNs();
    if (accept_resume != 0 && now >= accept_resume && !stopping.load()) {
      ResumeAccepting();
    }
    if (now >= next_sweep) {
      Sweep(now);
      workers.Unstick();
      next_sweep = now + ToNs(kSweepInterval);
    }
  }

  void OnAcceptable(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
    Accept();
  }
  using AcceptObserver = Poco::NObserver<Impl, Poco::Net::ReadableNotification>;

  void Accept() {
    for (int i = 0; i < 64 && listening; ++i) {
      Poco::Net::SocketAddress from;
      Poco::Net::StreamSocket socket;
      try {
        socket = listener.acceptConnection(from);
      } catch (const Poco::Exception& e) {
        const int err = e.code();
        if (err == EINTR || err == ECONNABORTED) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) return;  // drained
        if (err == EMFILE || err == ENFILE) {
          OutOfFds();
        } else {
          // ENOBUFS, ENOMEM, ...: the connection stays in the backlog and
          // the listener readable; pause rather than spin on it.
          PauseAccepting(e.displayText());
        }
        return;
      }
      if (stopping.load()) continue;  // socket closes as it goes
      if (connections.load() >= options.max_connections && !EvictOne()) {
        continue;  // every connection is in a request: refuse this one
      }
      try {
        socket.setBlocking(false);
        socket.setNoDelay(true);
      } catch (const Poco::Exception& e) {
        Log(LogLevel::kDebug, "connection failed",
            {{"client", from.toString()}, {"error", e.displayText()}});
        continue;
      }
      // Poco accepts without SOCK_CLOEXEC; a plugin that runs a program
      // must not pass it the client's socket.
      ::fcntl(socket.impl()->sockfd(), F_SETFD, FD_CLOEXEC);
      auto owned = std::make_unique<Connection>(this, socket, from);
      Connection* c = owned.get();
      c->waiting_since = NowNs();
      c->idle_deadline = c->waiting_since + ToNs(options.io_timeout);
      c->deadline.store(c->idle_deadline);
      const std::shared_ptr<const WebSecurity> web = CurrentWeb();
      c->secure = web->tls != nullptr;
      c->io = web->tls != nullptr ? web->tls->Accept(socket)
                                  : MakePlainTransport(socket);
      if (c->io == nullptr) continue;  // owned closes the socket
      {
        MutexLock lock(conns_mu);
        conns.emplace(c, std::move(owned));
      }
      connections.fetch_add(1);
      if (!Watch(c, Interest::kRead)) Close(c);
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
      try {
        Poco::Net::SocketAddress from;
        listener.acceptConnection(from);  // closed as it goes
      } catch (const Poco::Exception&) {
        // Gone from the backlog already.
      }
      spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    // No spare (another thread took the descriptor it freed): the listener
    // would stay readable and the loop spin until one frees up.
    if (spare_fd < 0) PauseAccepting("out of file descriptors");
  }

  // Stops watching the listener for kAcceptPause; Tick resumes it.
  void PauseAccepting(const std::string& why) {
    if (!listening) return;
    Log(LogLevel::kWarn, "cannot accept connections: pausing",
        {{"error", why}, {"pause_ms", std::to_string(kAcceptPause.count())}});
    StopListening();
    accept_resume = NowNs() + ToNs(kAcceptPause);
  }

  void StopListening() {
    if (!listening) return;
    try {
      reactor.removeEventHandler(listener,
                                 AcceptObserver(*this, &Impl::OnAcceptable));
    } catch (const Poco::Exception&) {
      // Out of the reactor's map either way.
    }
    listening = false;
  }

  void ResumeAccepting() {
    accept_resume = 0;
    if (spare_fd < 0) spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    try {
      reactor.addEventHandler(listener,
                              AcceptObserver(*this, &Impl::OnAcceptable));
      listening = true;
    } catch (const Poco::Exception& e) {
      PauseAccepting(e.displayText());
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
      MutexLock lock(conns_mu);
      std::pair<int, std::int64_t> best{0, 0};
      for (const auto& [c, owned] : conns) {
        const ConnState state = c->state.load(std::memory_order_acquire);
        std::pair<int, std::int64_t> key;
        if (state == ConnState::kLingering) {
          key = {0, 0};
        } else if (state == ConnState::kReading ||
                   state == ConnState::kWriting) {
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
    // Waiting in the reactor means this thread owns it.
    Close(victim);
    return true;
  }

  // Closes every waiting connection past its deadline; the ones being
  // served are their server's to finish.
  void Sweep(std::int64_t now) {
    std::vector<Connection*> expired;
    {
      MutexLock lock(conns_mu);
      for (const auto& [c, owned] : conns) {
        const ConnState state = c->state.load(std::memory_order_acquire);
        if (state == ConnState::kBusy || state == ConnState::kParked) {
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
    StopListening();
    accept_resume = 0;
    listener.close();
    CloseIdle();
    listener_closed.store(true);
  }

  // Idle connections and half-sent requests are not in flight: a drain
  // closes them at once, and at every tick after, for a connection a
  // worker handed back just as the drain began. A connection with a worker
  // closes after its response.
  void CloseIdle() {
    std::vector<Connection*> waiting;
    {
      MutexLock lock(conns_mu);
      for (const auto& [c, owned] : conns) {
        const ConnState state = c->state.load(std::memory_order_acquire);
        if (state == ConnState::kReading || state == ConnState::kLingering) {
          waiting.push_back(c);
        }
      }
    }
    for (Connection* c : waiting) Close(c);
  }

  void OnEvent(Connection* c) override {
    ConnState busy = ConnState::kBusy;
    if (c->state.compare_exchange_strong(busy, ConnState::kParked,
                                         std::memory_order_acq_rel)) {
      // A worker has c, and the client sent more (or closed) meanwhile:
      // stop watching, or the loop would spin; the worker hands c back.
      Unwatch(c);
      return;
    }
    if (busy == ConnState::kParked) return;  // unwatched: cannot happen
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
          Arm(c, ConnState::kLingering, Interest::kRead, c->deadline.load());
          return;
        }
        if (r.status == Transport::Status::kWantRead) {
          Arm(c, ConnState::kLingering, Interest::kRead, c->deadline.load());
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
        Arm(c, ConnState::kReading, Interest::kWrite, c->deadline.load());
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

  // Hands c back to the reactor to wait for the rest of a request head (or
  // the next request), or releases it when draining.
  void WaitForHead(Connection* c) {
    if (stopping.load()) {
      Release(c);
      return;
    }
    std::int64_t deadline = 0;
    if (!c->in.empty()) {
      // A request's head must arrive whole within the I/O timeout, however
      // slowly its bytes trickle in.
      if (c->request_start == 0) c->request_start = NowNs();
      deadline = c->request_start + ToNs(options.io_timeout);
    } else {
      c->request_start = 0;
      deadline = c->idle_deadline;
    }
    Arm(c, ConnState::kReading, Interest::kRead, deadline);
  }

  // Whether request may be served: true without authentication (or for
  // /health when it is exempt), false without credentials or with ones the
  // cache knows to be wrong, nothing when they must be verified (bcrypt, on
  // a worker).
  std::optional<bool> Authorized(const GatedRequest& request) {
    const std::shared_ptr<const WebSecurity> web = CurrentWeb();
    if (web->auth == nullptr ||
        (web->health_without_auth && request.path() == "/health")) {
      return true;
    }
    const std::string& credentials =
        request.get(Poco::Net::HTTPRequest::AUTHORIZATION, kNoValue);
    if (credentials.empty()) return false;
    return web->auth->Cached(credentials);
  }

  // Serves the requests buffered on c until one needs a worker, the socket
  // needs to drain, or more bytes are needed; then hands c on or closes it.
  void Advance(Connection* c) {
    for (;;) {
      HttpRequestHead& head = c->head;
      const ParseOutcome parsed = ParseRequestHead(c->in, &head);
      if (parsed.status == ParseStatus::kIncomplete) {
        WaitForHead(c);
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
      const std::optional<bool> authorized = Authorized(request);
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
        if (in_flight.fetch_add(1) < options.max_requests) {
          c->counted = true;
          if (Dispatch(c)) return;
          c->counted = false;
        }
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
    MutexLock lock(web_mu);
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
      Arm(c, ConnState::kWriting, Interest::kWrite,
          NowNs() + ToNs(options.io_timeout));
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
    if (stopping.load()) {
      Release(c);
      return;
    }
    try {
      c->socket.shutdownSend();
    } catch (const Poco::Exception&) {
      Release(c);  // the peer is gone
      return;
    }
    Arm(c, ConnState::kLingering, Interest::kRead, NowNs() + ToNs(kLinger));
  }

  // Builds a response on this thread (fill writes it through Poco's
  // HTTPServerResponse: the head into one string, the body there too or,
  // for a scrape, left in this thread's ResponseBuffers) and writes it: at
  // once when the socket takes it (the usual case), else the rest waits in
  // c->out for the I/O thread. The caller then calls Finish().
  template <class Fill>
  void Respond(Connection* c, bool keep_alive, bool head_only, Fill&& fill) {
    thread_local std::string wire;
    wire.clear();
    std::string_view body;
    {
      BufferedResponse response(&wire, keep_alive, head_only);
      try {
        fill(response);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "request failed",
            {{"client", c->peer}, {"error", e.what()}});
      }
      body = response.borrowed_body();
      if (!response.sent()) {
        wire.clear();
        body = {};
        BufferedResponse failed(&wire, keep_alive, head_only);
        SendText(failed, Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR,
                 "internal error\n");
      }
      keep_alive = response.keep_alive();
    }
    ReleaseSlot(c);
    c->idle_deadline = NowNs() + ToNs(options.keep_alive_timeout);
    c->close_after_write = !keep_alive;
    WriteResponse(c, wire, body);
    ReleaseIfLarge(wire);
    ResponseBuffers& buffers = ThreadResponseBuffers();
    ReleaseIfLarge(buffers.body);
    ReleaseIfLarge(buffers.compressed);
  }

  // Writes head, then body, as far as the socket takes them; what it does
  // not take is copied into c->out (the caller's buffers are reused by
  // the next response on this thread).
  static void WriteResponse(Connection* c, std::string_view head,
                            std::string_view body) {
    c->out.clear();
    c->out_pos = 0;
    const std::size_t total = head.size() + body.size();
    std::size_t off = 0;
    while (off < total) {
      const Transport::Result w =
          off < head.size()
              ? c->io->WriteTwo(head.substr(off), body)
              : c->io->Write(body.data() + (off - head.size()), total - off);
      if (w.status == Transport::Status::kOk) {
        off += w.bytes;
        continue;
      }
      if (w.status == Transport::Status::kWantWrite ||
          w.status == Transport::Status::kWantRead) {
        if (off < head.size()) c->out.assign(head.substr(off));
        c->out.append(body.substr(off < head.size() ? 0 : off - head.size()));
        break;
      }
      c->close_after_write = true;  // the peer is gone
      c->out.clear();
      break;
    }
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
            w.status == Transport::Status::kWantWrite ? Interest::kWrite
                                                      : Interest::kRead,
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

  // Queues c for a worker (the in-flight limit bounds how many run).
  // False if no thread could start.
  bool Dispatch(Connection* c) {
    if (OnReactorThread()) {
      // Only a read registration stays while a worker has c (a writable
      // socket is almost always writable: the loop would spin); the first
      // read event in that time parks c (OnEvent).
      if (c->watching != Interest::kRead) Unwatch(c);
      c->read_kept = c->watching == Interest::kRead;
      c->state.store(ConnState::kBusy, std::memory_order_release);
    }
    // On a worker (a request buffered behind the last), c is already busy
    // or parked, and stays so.
    const Status queued = workers.Submit(c, in_flight.load());
    if (queued.ok()) return true;
    // c stays kBusy: the caller, maybe a worker, answers it 503 and hands
    // it on. Marked waiting here, the reactor's sweep or eviction could
    // close it under that worker.
    Log(LogLevel::kWarn, "cannot start a scrape worker",
        {{"error", queued.message()}});
    return false;
  }

  void ServeOnWorker(Connection* c) {
    if (c->verify) {
      c->verify = false;
      const std::shared_ptr<const WebSecurity> web = CurrentWeb();
      bool ok = true;
      if (web->auth != nullptr) {
        // Tens of milliseconds of CPU, bounded by kMaxVerifying at once:
        // not held against the scrapes queued behind it.
        const StepAside aside;
        ok = web->auth->Check(
            c->request->get(Poco::Net::HTTPRequest::AUTHORIZATION, kNoValue));
      }
      if (!ok) {
        // Its place in in_flight is given back as the 401 is written, before
        // the check's slot: checks never hold more than kMaxVerifying.
        Unauthorized(c);
        verifying.fetch_sub(1);
        if (Finish(c)) Advance(c);
        return;
      }
      verifying.fetch_sub(1);  // verified: from here an ordinary request
    }
    Handle(c);
    ReleaseSlot(c);  // given back by Respond; this covers any other way out
    if (Finish(c)) Advance(c);
  }

  // Gives back c's place in in_flight, once.
  void ReleaseSlot(Connection* c) {
    if (!c->counted) return;
    c->counted = false;
    in_flight.fetch_sub(1);
  }
  // The reactor thread's body.
  void RunReactor() { reactor.run(); }
  Poco::RunnableAdapter<Impl> reactor_loop{*this, &Impl::RunReactor};

  bool OnReactorThread() const {
    return Poco::Thread::current() == &reactor_thread;
  }

  // Waits for the drain: the listener closed, every connection closed and
  // no request in flight. Forever when until is empty.
  bool WaitDrained(std::optional<Clock::time_point> until) const {
    for (;;) {
      if (listener_closed.load() && connections.load() == 0 &&
          in_flight.load() == 0) {
        return true;
      }
      if (until.has_value() && Clock::now() >= *until) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

  // After a completed drain: stops the reactor and the workers and joins
  // their threads.
  void StopThreads() {
    reactor.stop();
    reactor.wakeUp();
    reactor_thread.join();
    // Nothing is queued or running once drained.
    workers.Stop();
  }
};

HttpServer::HttpServer(ServerOptions options, ExporterHolder* exporter)
    : impl_(std::make_unique<Impl>(std::move(options), exporter)) {
  impl_->web_current = impl_->options.web != nullptr
                           ? impl_->options.web
                           : std::make_shared<const WebSecurity>();
}

HttpServer::~HttpServer() {
  Impl& s = *impl_;
  if (!s.reactor_thread.isRunning()) return;
  // A drain that gave up (Shutdown returned false) left requests running;
  // their threads use the Impl, so wait for them rather than free it under
  // them. main exits without destroying the server while a request is
  // stuck in a plugin.
  s.stopping.store(true);
  s.WaitDrained(std::nullopt);
  s.StopThreads();
}

namespace {

// "host:port", "[v6]:port" or ":port" (all interfaces) as a Poco address.
Poco::Net::SocketAddress ListenAddress(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    throw Poco::InvalidArgumentException("expected HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  return {host, listen.substr(colon + 1)};
}

}  // namespace

Result<std::string> HttpServer::Start() {
  Impl& s = *impl_;
  try {
    // SO_REUSEADDR for restarts; not SO_REUSEPORT, which would let a
    // second exporter bind the same port silently and take half the
    // scrapes: a taken port is an error.
    s.listener.bind(ListenAddress(s.options.listen), /*reuseAddress=*/true,
                    /*reusePort=*/false);
    s.listener.listen(128);
    s.listener.setBlocking(false);
    ::fcntl(s.listener.impl()->sockfd(), F_SETFD, FD_CLOEXEC);
  } catch (const Poco::Exception& e) {
    return Status::Error("cannot listen on " + s.options.listen + ": " +
                         e.displayText());
  }
  try {
    s.spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    // Threads beyond max_requests cover a worker that has left its loop
    // but is not yet back in the pool when the next scrape needs one.
    s.workers.Start("scrape", 2 * std::max(1, s.options.max_requests) + 1,
                    static_cast<int>(CpusAllowed()));
    s.server_address = s.listener.address();
    const Poco::Net::SocketAddress loopback("127.0.0.1", 0);
    s.wake_rx.bind(loopback);
    s.wake_tx.bind(loopback);
    s.wake_rx.connect(s.wake_tx.address());
    s.wake_tx.connect(s.wake_rx.address());
    for (Poco::Net::DatagramSocket* w : {&s.wake_rx, &s.wake_tx}) {
      w->setBlocking(false);
      ::fcntl(w->impl()->sockfd(), F_SETFD, FD_CLOEXEC);
    }
    s.reactor.addEventHandler(s.wake_rx, Impl::WakeObserver(s, &Impl::OnWake));
    s.reactor.addEventHandler(s.listener,
                              Impl::AcceptObserver(s, &Impl::OnAcceptable));
    s.listening = true;
    s.reactor_thread.start(s.reactor_loop);
  } catch (const Poco::Exception& e) {
    return Status::Error("cannot start the server: " + e.displayText());
  }
  return s.server_address.toString();
}

void HttpServer::SetWeb(std::shared_ptr<const WebSecurity> web) {
  MutexLock lock(impl_->web_mu);
  impl_->web_current =
      web != nullptr ? std::move(web) : std::make_shared<const WebSecurity>();
}

bool HttpServer::Shutdown(milliseconds drain) {
  Impl& s = *impl_;
  if (!s.reactor_thread.isRunning()) return true;
  // Stop accepting (the reactor closes the listening socket on its next
  // pass, so a client connecting during the drain is refused rather than
  // left in the backlog), close idle connections, let the requests in
  // flight finish.
  s.stopping.store(true);
  s.reactor.wakeUp();
  if (!s.WaitDrained(Clock::now() + drain)) {
    // A scrape is still running (a plugin ignoring its deadline): the
    // server keeps running it; the destructor waits for it.
    return false;
  }
  s.StopThreads();
  return true;
}

}  // namespace sysmetrics
