#include "transport.hpp"

#include <dlfcn.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "plugin_loader.hpp"

namespace sysmetrics {
namespace {

std::string ErrnoText(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof buf);  // GNU: returns the message
}

class PlainTransport : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  Result Read(char* buf, std::size_t len) override {
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, len, 0);
      if (n > 0) return {Status::kOk, static_cast<std::size_t>(n)};
      if (n == 0) return {Status::kEof, 0};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return {Status::kWantRead, 0};
      }
      return {Status::kFailed, 0};
    }
  }
  Result Write(const char* buf, std::size_t len) override {
    for (;;) {
      const ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL);
      if (n >= 0) return {Status::kOk, static_cast<std::size_t>(n)};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return {Status::kWantWrite, 0};
      }
      return {Status::kFailed, 0};
    }
  }
  std::string LastError() const override { return ErrnoText(errno); }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<Transport> MakePlainTransport(int fd) {
  return std::make_unique<PlainTransport>(fd);
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
