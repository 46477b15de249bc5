#include "transport.hpp"

#include <Poco/Exception.h>
#include <dlfcn.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "plugin_loader.hpp"

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
  std::string LastError() const override { return last_error_; }

 private:
  static int ClampLen(std::size_t len) {
    return static_cast<int>(std::min<std::size_t>(len, 1U << 30));
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
  return std::make_unique<PlainTransport>(socket);
}

std::string TlsModulePath() {
  std::error_code ec;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path base =
      ec ? std::filesystem::current_path() : exe.parent_path();
  return (base / SYSMETRICS_TLS_MODULE_RELPATH).lexically_normal().string();
}

Result<std::shared_ptr<TlsContext>> TlsContext::Create(const TlsSettings& s) {
  using BuildIdFn = const char* (*)();
  using CreateFn = TlsContext* (*)(const TlsSettings*, std::string*);
  // Loaded once, on first use, and never unloaded (contexts and
  // connections made by it may live until exit).
  static std::mutex mu;
  static CreateFn create = nullptr;
  static std::string load_error;
  {
    std::lock_guard lock(mu);
    if (create == nullptr && load_error.empty()) {
      std::error_code ec;
      // Checked and loaded by its resolved path, as plugins are.
      std::string path = TlsModulePath();
      const std::filesystem::path real = std::filesystem::canonical(path, ec);
      if (!ec) path = real.string();
      if (s.check_module_permissions) {
        if (const std::string problem = TrustProblem(path); !problem.empty()) {
          return Status::Error("the TLS module is not trusted: " + problem +
                               kTrustHint);
        }
      }
      void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        // Under mu: no other dlerror() caller in between.
        const char* why = ::dlerror();  // NOLINT(concurrency-mt-unsafe)
        load_error = "cannot load the TLS module " + path + ": " +
                     (why != nullptr ? why : "unknown error") +
                     " (it is installed with the exporter; HTTPS needs it)";
      } else {
        auto build_id = reinterpret_cast<BuildIdFn>(
            ::dlsym(handle, "sysmetrics_tls_build_id"));
        auto fn = reinterpret_cast<CreateFn>(
            ::dlsym(handle, "sysmetrics_tls_create"));
        if (build_id == nullptr || fn == nullptr) {
          load_error = "the TLS module " + path + " lacks its entry points";
        } else if (std::string(build_id()) != SYSMETRICS_BUILD_ID) {
          load_error = "the TLS module " + path + " is from build '" +
                       build_id() + "', not this exporter's '" +
                       SYSMETRICS_BUILD_ID + "'; reinstall the package";
        } else {
          create = fn;
        }
      }
    }
    if (create == nullptr) return Status::Error(load_error);
  }
  std::string error;
  TlsContext* ctx = create(&s, &error);
  if (ctx == nullptr) return Status::Error(error);
  return std::shared_ptr<TlsContext>(ctx);
}

}  // namespace sysmetrics
