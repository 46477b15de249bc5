#include "http/transport.hpp"

#include <Poco/Exception.h>
#include <dlfcn.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/thread_annotations.hpp"
#include "sysmetrics_build_id.hpp"
#include "util/paths.hpp"
#include "util/sigpipe.hpp"
#include "util/trust.hpp"

namespace sysmetrics {
namespace {

class PlainTransport : public Transport {
 public:
  explicit PlainTransport(const Poco::Net::StreamSocket& socket)
      : socket_(socket) {}
  // Poco returns -1 for EAGAIN on a non-blocking read and throws for the
  // rest; a write throws for EAGAIN too, so the code says which.
  Result Read(char* buf, std::size_t len) override {
    try {
      const int n = socket_.receiveBytes(buf, ClampLen(len));
      if (n > 0) return {Status::kOk, static_cast<std::size_t>(n)};
      if (n == 0) return {Status::kEof, 0};
      return {Status::kWantRead, 0};
    } catch (const Poco::Exception& e) {
      return Failed(e);
    }
  }
  Result Write(const char* buf, std::size_t len) override {
    try {
      const int n = socket_.sendBytes(buf, ClampLen(len), MSG_NOSIGNAL);
      return {Status::kOk, static_cast<std::size_t>(n)};
    } catch (const Poco::Exception& e) {
      if (e.code() == EAGAIN || e.code() == EWOULDBLOCK) {
        return {Status::kWantWrite, 0};
      }
      return Failed(e);
    }
  }
  // Poco's vectored send is writev, which takes no MSG_NOSIGNAL: a peer
  // gone mid-response would raise SIGPIPE, so MakePlainTransport has the
  // process ignore it (the write then fails with EPIPE).
  Result WriteTwo(std::string_view first, std::string_view second) override {
    thread_local Poco::Net::SocketBufVec bufs(2);
    first = first.substr(0, std::min(first.size(), kMaxWrite));
    second =
        second.substr(0, std::min(second.size(), kMaxWrite - first.size()));
    bufs[0] = {const_cast<char*>(first.data()), first.size()};
    bufs[1] = {const_cast<char*>(second.data()), second.size()};
    try {
      const int n = socket_.sendBytes(bufs);
      return {Status::kOk, static_cast<std::size_t>(n)};
    } catch (const Poco::Exception& e) {
      if (e.code() == EAGAIN || e.code() == EWOULDBLOCK) {
        return {Status::kWantWrite, 0};
      }
      return Failed(e);
    }
  }
  std::string LastError() const override { return last_error_; }

 private:
  static constexpr std::size_t kMaxWrite = std::size_t{1} << 30;
  static int ClampLen(std::size_t len) {
    return static_cast<int>(std::min(len, kMaxWrite));
  }
  Result Failed(const Poco::Exception& e) {
    last_error_ = e.displayText();
    return {Status::kFailed, 0};
  }

  Poco::Net::StreamSocket socket_;
  std::string last_error_;
};

}  // namespace

std::unique_ptr<Transport> MakePlainTransport(
    const Poco::Net::StreamSocket& socket) {
  IgnoreSigpipe();
  return std::make_unique<PlainTransport>(socket);
}

std::string TlsModulePath() {
  return BesideExecutable(SYSMETRICS_TLS_MODULE_RELPATH);
}

namespace {

using TlsBuildIdFn = const char*();
using TlsCreateFn = TlsContext*(const TlsSettings*, std::string*);

// Loads the TLS module at path (already resolved and checked) with the
// same Boost.DLL load as plugins, and returns its create function when the
// module comes from this build: sets *create, or returns why not (naming
// the file and the reason). dlerror() is read right after the failed load;
// glibc keeps its text per thread.
Status LoadTlsModule(const std::string& path, TlsCreateFn** create) {
  auto lib = std::make_unique<boost::dll::shared_library>();
  std::error_code ec;
  lib->load(path,
            boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
            ec);
  if (ec) {
    // Boost.DLL reports every failed dlopen as "Bad file descriptor"; the
    // reason is in dlerror(), which it leaves set (see LoadPlugin).
    const char* why = ::dlerror();  // NOLINT(concurrency-mt-unsafe)
    return Status::Error("cannot load the TLS module " + path + ": " +
                         (why != nullptr ? std::string(why) : ec.message()) +
                         " (it is installed with the exporter; HTTPS needs "
                         "it)");
  }
  // Never unloaded from here on, even when refused below: its static
  // constructors (Poco NetSSL's, OpenSSL's) have run, and the contexts and
  // connections it makes may live until exit. Held here, never deleted
  // (Create loads at most once; a static shared_library would dlclose it
  // at exit).
  static boost::dll::shared_library* loaded = nullptr;
  loaded = lib.release();
  const boost::dll::shared_library& tls = *loaded;
  if (!tls.has("sysmetrics_tls_build_id") ||
      !tls.has("sysmetrics_tls_create")) {
    return Status::Error("the TLS module " + path + " lacks its entry points");
  }
  const std::string id = tls.get<TlsBuildIdFn>("sysmetrics_tls_build_id")();
  if (id != SYSMETRICS_BUILD_ID) {
    return Status::Error("the TLS module " + path + " is from build '" + id +
                         "', not this exporter's '" SYSMETRICS_BUILD_ID
                         "'; reinstall the package");
  }
  *create = &tls.get<TlsCreateFn>("sysmetrics_tls_create");
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::Create(const TlsSettings& s) {
  // Loaded once, on first use; a failure is final too.
  static Mutex mu;
  static TlsCreateFn* create GUARDED_BY(mu) = nullptr;
  static std::string load_error GUARDED_BY(mu);
  TlsCreateFn* create_fn = nullptr;
  {
    MutexLock lock(mu);
    if (create == nullptr && load_error.empty()) {
      std::error_code ec;
      // Checked and loaded by its resolved path, as plugins are.
      std::string path = TlsModulePath();
      const std::filesystem::path real = std::filesystem::canonical(path, ec);
      if (!ec) path = real.string();
      if (s.check_module_permissions) {
        if (const Status trusted = CheckTrusted(path); !trusted.ok()) {
          return Status::Error("the TLS module is not trusted: " +
                               trusted.message() + kTrustHint);
        }
      }
      if (const Status st = LoadTlsModule(path, &create); !st.ok()) {
        load_error = st.message();
      }
    }
    if (create == nullptr) return Status::Error(load_error);
    create_fn = create;
  }
  std::string error;
  TlsContext* ctx = create_fn(&s, &error);
  if (ctx == nullptr) return Status::Error(error);
  return std::shared_ptr<TlsContext>(ctx);
}

}  // namespace sysmetrics
