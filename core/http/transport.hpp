// Transports: one connection's byte stream, plain TCP or TLS, driven by the
// server's non-blocking loop. Read and Write never block and never throw;
// kWantRead / kWantWrite say which readiness to wait for (TLS may need to
// write while reading, and the reverse, during a handshake).
#pragma once

#include <Poco/Net/StreamSocket.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace sysmetrics {

class Transport {
 public:
  enum class Status { kOk, kEof, kWantRead, kWantWrite, kFailed };
  struct Result {
    Status status;
    std::size_t bytes;
  };
  virtual ~Transport() = default;
  virtual Result Read(char* buf, std::size_t len) = 0;
  virtual Result Write(const char* buf, std::size_t len) = 0;
  // Writes first, then second, as far as the connection takes them;
  // bytes counts both (a response's head and its body, without joining
  // them in one buffer). kWantWrite and the others only when nothing was
  // written. This base makes two Writes; plain TCP makes one writev.
  virtual Result WriteTwo(std::string_view first, std::string_view second);
  // Bytes already decrypted and waiting in user space, which epoll cannot
  // see (TLS only).
  virtual bool HasBuffered() const { return false; }
  // Why the last kFailed happened, for a debug log line.
  virtual std::string LastError() const { return {}; }
};

// Inline: the TLS module, which links no part of core/, inherits it.
inline Transport::Result Transport::WriteTwo(std::string_view first,
                                             std::string_view second) {
  std::size_t done = 0;
  if (!first.empty()) {
    const Result r = Write(first.data(), first.size());
    if (r.status != Status::kOk || r.bytes < first.size()) return r;
    done = r.bytes;
  }
  if (second.empty()) return {Status::kOk, done};
  const Result r = Write(second.data(), second.size());
  if (r.status == Status::kOk) return {Status::kOk, done + r.bytes};
  // The head went out: report that; the next call meets the wait again.
  return done > 0 ? Result{Status::kOk, done} : r;
}

// Plain TCP through Poco's StreamSocket (non-blocking). The transport
// shares the socket with the caller; the socket closes when the last copy
// goes.
std::unique_ptr<Transport> MakePlainTransport(
    const Poco::Net::StreamSocket& socket);

struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // non-empty: clients must present a cert
  bool tls13_only = false;     // else TLS 1.2 and 1.3
  // The TLS module is code loaded into the service, like a plugin: refuse
  // it when others could write it (CheckTrusted), unless the operator
  // turned plugin permission checks off.
  bool check_module_permissions = true;
};

// A server TLS configuration: certificate, key, optional client CA and
// protocol floor, loaded once through Poco NetSSL and shared by every
// connection. Implemented by the TLS module (tls_module.cpp), which Create
// loads on first use. Thread-safe.
class TlsContext {
 public:
  // Loads the module if needed, then the files. Fails with a message naming
  // the file and OpenSSL's reason, or why the module could not be loaded.
  static Result<std::shared_ptr<TlsContext>> Create(const TlsSettings& s);
  virtual ~TlsContext() = default;
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A transport over socket (connected, non-blocking) that performs the
  // server side of the handshake on its first reads, then encrypts. It
  // closes the socket when it goes. nullptr if OpenSSL cannot allocate.
  virtual std::unique_ptr<Transport> Accept(
      const Poco::Net::StreamSocket& socket) const = 0;

 protected:
  TlsContext() = default;
};

}  // namespace sysmetrics
