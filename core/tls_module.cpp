// The TLS module (libexec/sysmetrics/tls.so): HTTPS through Poco NetSSL and
// OpenSSL, loaded by TlsContext::Create only when [web.tls] is configured,
// so an exporter serving plain HTTP never maps OpenSSL and Poco NetSSL
// (about 5 MiB of resident memory, measured; DESIGN.md). Built with the
// host and loaded only by the host of the same build: its interface is the
// C++ classes of transport.hpp, not the plugin ABI.
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "transport.hpp"

#ifndef SYSMETRICS_BUILD_ID
#error "SYSMETRICS_BUILD_ID must name the host build this module belongs to"
#endif

namespace sysmetrics {
namespace {

std::string ErrnoText(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof buf);  // GNU: returns the message
}

// OpenSSL's error queue as one line; empties the queue.
std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

class TlsTransport : public Transport {
 public:
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}
  ~TlsTransport() override {
    // A best-effort close_notify; the socket is non-blocking, so this
    // never waits for the peer's.
    if (SSL_is_init_finished(ssl_) == 1) SSL_shutdown(ssl_);
    SSL_free(ssl_);
    ERR_clear_error();
  }
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  Result Read(char* buf, std::size_t len) override {
    ERR_clear_error();
    const int n = SSL_read(
        ssl_, buf, static_cast<int>(std::min<std::size_t>(len, 1 << 30)));
    if (n > 0) return {Status::kOk, static_cast<std::size_t>(n)};
    return {Classify(n), 0};
  }
  Result Write(const char* buf, std::size_t len) override {
    ERR_clear_error();
    const int n = SSL_write(
        ssl_, buf, static_cast<int>(std::min<std::size_t>(len, 1 << 30)));
    if (n > 0) return {Status::kOk, static_cast<std::size_t>(n)};
    return {Classify(n), 0};
  }
  bool HasBuffered() const override { return SSL_pending(ssl_) > 0; }
  std::string LastError() const override { return error_; }

 private:
  Status Classify(int rc) {
    const int err = SSL_get_error(ssl_, rc);
    switch (err) {
      case SSL_ERROR_WANT_READ:
        return Status::kWantRead;
      case SSL_ERROR_WANT_WRITE:
        return Status::kWantWrite;
      case SSL_ERROR_ZERO_RETURN:
        return Status::kEof;
      case SSL_ERROR_SYSCALL:
        error_ = errno != 0 ? ErrnoText(errno) : "connection closed";
        return Status::kFailed;
      default:
        error_ = OpenSslErrors();
        if (error_.empty()) error_ = "TLS error " + std::to_string(err);
        return Status::kFailed;
    }
  }

  SSL* ssl_;
  std::string error_;
};

// Poco's Context reports a missing file as an OpenSSL reason that does not
// name it; check first so the message does.
Status Readable(const std::string& what, const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    return Status::Error(what + " " + path + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

class PocoTlsContext : public TlsContext {
 public:
  std::unique_ptr<Transport> Accept(int fd) const override;
  Poco::Net::Context::Ptr context;
};

Result<std::unique_ptr<PocoTlsContext>> Create(const TlsSettings& s) {
  if (Status st = Readable("certificate", s.cert_file); !st.ok()) return st;
  if (Status st = Readable("key", s.key_file); !st.ok()) return st;
  if (!s.client_ca_file.empty()) {
    if (Status st = Readable("client CA", s.client_ca_file); !st.ok()) {
      return st;
    }
  }
  Poco::Net::Context::Params params;
  params.certificateFile = s.cert_file;
  params.privateKeyFile = s.key_file;
  params.caLocation = s.client_ca_file;
  params.loadDefaultCAs = false;
  params.verificationMode = s.client_ca_file.empty()
                                ? Poco::Net::Context::VERIFY_NONE
                                : Poco::Net::Context::VERIFY_STRICT;
  params.verificationDepth = 9;
  // Forward-secret AEAD suites only for TLS 1.2 (1.3's are all fine).
  params.cipherList =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  auto out = std::make_unique<PocoTlsContext>();
  try {
    Poco::Net::initializeSSL();
    out->context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    out->context->requireMinimumProtocol(
        s.tls13_only ? Poco::Net::Context::PROTO_TLSV1_3
                     : Poco::Net::Context::PROTO_TLSV1_2);
  } catch (const Poco::Exception& e) {
    ERR_clear_error();
    return Status::Error("cannot load certificate " + s.cert_file +
                         " and key " + s.key_file + ": " + e.displayText());
  }
  SSL_CTX* ctx = out->context->sslContext();
  // Loading the certificate after the key drops a key that does not match
  // it without an error; every handshake would then fail.
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::Error("cannot load certificate " + s.cert_file +
                         " and key " + s.key_file +
                         ": the key does not match the certificate");
  }
  // OpenSSL's own verification, without Poco's callback (which reports
  // through its SSLManager singleton, unused here).
  SSL_CTX_set_verify(ctx,
                     s.client_ca_file.empty()
                         ? SSL_VERIFY_NONE
                         : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     nullptr);
  if (!s.client_ca_file.empty()) {
    // The CA names a client may choose its certificate by.
    STACK_OF(X509_NAME)* names =
        SSL_load_client_CA_file(s.client_ca_file.c_str());
    if (names == nullptr) {
      const std::string why = OpenSslErrors();
      return Status::Error("cannot read client CA " + s.client_ca_file + ": " +
                           (why.empty() ? "no certificates" : why));
    }
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  // A write retried after kWantWrite comes from another buffer (the rest of
  // the response moves to the connection); partial writes let one response
  // span several.
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Every connection's key agreement is its own; no session tickets to
  // keep keys for.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  return out;
}

std::unique_ptr<Transport> PocoTlsContext::Accept(int fd) const {
  SSL* ssl = SSL_new(context->sslContext());
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return std::make_unique<TlsTransport>(ssl);
}

}  // namespace
}  // namespace sysmetrics

// The module's two entry points, resolved by name with dlsym.
extern "C" __attribute__((visibility("default"))) const char*
sysmetrics_tls_build_id() {
  return SYSMETRICS_BUILD_ID;
}

// Returns a new context (the caller deletes it), or null with *error set.
// Never throws.
extern "C" __attribute__((visibility("default"))) sysmetrics::TlsContext*
sysmetrics_tls_create(const sysmetrics::TlsSettings* settings,
                      std::string* error) {
  try {
    auto r = sysmetrics::Create(*settings);
    if (!r.ok()) {
      *error = r.error();
      return nullptr;
    }
    return r.value().release();
  } catch (const std::exception& e) {
    *error = e.what();
  } catch (...) {
    *error = "unknown error";
  }
  return nullptr;
}
