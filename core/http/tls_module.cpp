// The TLS module (libexec/sysmetrics/tls.so): HTTPS through Poco NetSSL
// (Context, SecureStreamSocket) over OpenSSL, loaded by TlsContext::Create only
// when [web.tls] is configured, so an exporter serving plain HTTP never maps
// OpenSSL and Poco NetSSL (about 5 MiB of resident memory, measured;
// DESIGN.md). Built with the host and loaded only by the host of the same
// build (the build id below): its interface is the C++ classes of
// transport.hpp, not the plugin ABI.
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/text.hpp"
#include "http/transport.hpp"
#include "sysmetrics_build_id.hpp"

namespace sysmetrics {
namespace {

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

// A connection's TLS through Poco's SecureStreamSocket, attached to the
// server's non-blocking StreamSocket: the handshake runs inside the first
// reads (Poco's lazy server handshake), and ERR_SSL_WANT_READ/WRITE say
// which readiness to wait for. Poco throws for errors and end of stream on
// a broken connection; those become kFailed with its message.
class TlsTransport : public Transport {
 public:
  explicit TlsTransport(const Poco::Net::SecureStreamSocket& socket)
      : socket_(socket) {}
  ~TlsTransport() override {
    // A best-effort close_notify (one non-blocking write), then the socket
    // closes; whatever that leaves in this thread's OpenSSL error queue
    // must not reach the next connection's calls. (Not by assigning a
    // default SecureStreamSocket: that builds Poco's default client
    // Context, loading the system CA bundle, under SSLManager's lock.)
    try {
      socket_.close();
    } catch (const Poco::Exception&) {
      // The peer is gone; the descriptor is closed either way.
    }
    ERR_clear_error();
  }
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  Result Read(char* buf, std::size_t len) override {
    Begin();
    try {
      return Classify(socket_.receiveBytes(buf, ClampLen(len)));
    } catch (const Poco::Exception& e) {
      return Failed(e);
    }
  }
  Result Write(const char* buf, std::size_t len) override {
    Begin();
    try {
      return Classify(socket_.sendBytes(buf, ClampLen(len)));
    } catch (const Poco::Exception& e) {
      return Failed(e);
    }
  }
  bool HasBuffered() const override {
    try {
      return socket_.available() > 0;  // SSL_pending
    } catch (const Poco::Exception&) {
      return false;
    }
  }
  std::string LastError() const override { return error_; }

 private:
  static int ClampLen(std::size_t len) {
    return static_cast<int>(std::min<std::size_t>(len, 1U << 30));
  }
  // OpenSSL reads the thread's error queue, and Poco retries a failed
  // call whose errno says EAGAIN: neither may see an earlier call's.
  static void Begin() {
    ERR_clear_error();
    errno = 0;
  }
  static Result Classify(int n) {
    if (n > 0) return {Status::kOk, static_cast<std::size_t>(n)};
    if (n == 0) return {Status::kEof, 0};
    if (n == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_READ) {
      return {Status::kWantRead, 0};
    }
    if (n == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE) {
      return {Status::kWantWrite, 0};
    }
    return {Status::kFailed, 0};
  }
  Result Failed(const Poco::Exception& e) {
    error_ = e.displayText();
    ERR_clear_error();
    return {Status::kFailed, 0};
  }

  Poco::Net::SecureStreamSocket socket_;
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
  std::unique_ptr<Transport> Accept(
      const Poco::Net::StreamSocket& socket) const override;
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
  // VERIFY_STRICT: a client must present a certificate that the CA
  // signed; Poco's verify callback refuses any other.
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
    out->context = Poco::makeAuto<Poco::Net::Context>(
        Poco::Net::Context::TLS_SERVER_USE, params);
    out->context->requireMinimumProtocol(
        s.tls13_only ? Poco::Net::Context::PROTO_TLSV1_3
                     : Poco::Net::Context::PROTO_TLSV1_2);
    // Poco's extended verification matches a peer's certificate against
    // its host name: right for a client checking a server, wrong for
    // client certificates, which name users, not addresses.
    out->context->enableExtendedCertificateVerification(false);
    // Every connection's key agreement is its own; no session tickets to
    // keep keys for.
    out->context->disableStatelessSessionResumption();
  } catch (const Poco::Exception& e) {
    ERR_clear_error();
    return Status::Error("cannot load certificate " + s.cert_file +
                         " and key " + s.key_file + ": " + e.displayText());
  }
  // What Poco 1.11's Context has no call for, on the SSL_CTX it made.
  SSL_CTX* ctx = out->context->sslContext();
  // Poco loads the key before the certificate, which drops a key that does
  // not match it without an error; every handshake would then fail.
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::Error("cannot load certificate " + s.cert_file +
                         " and key " + s.key_file +
                         ": the key does not match the certificate");
  }
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
  // span several. No renegotiation: a client could make the server redo
  // handshakes at will.
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  return out;
}

std::unique_ptr<Transport> PocoTlsContext::Accept(
    const Poco::Net::StreamSocket& socket) const {
  try {
    // Server use: Poco makes the SSL object in accept state and defers the
    // handshake to the first read.
    return std::make_unique<TlsTransport>(
        Poco::Net::SecureStreamSocket::attach(socket, context));
  } catch (const Poco::Exception&) {
    ERR_clear_error();
    return nullptr;  // OpenSSL could not allocate
  }
}

}  // namespace
}  // namespace sysmetrics

// The module's two entry points, resolved by name (LoadTlsModule in
// transport.cpp).

// The id of the build this module belongs to (sysmetrics_build_id.hpp,
// generated): the host refuses the module unless it is its own. A plain
// string in .rodata, which tests/e2e/test_web.py rewrites in a copy to make
// a module of another build.
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
