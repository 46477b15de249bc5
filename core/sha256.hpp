// SHA-256 (FIPS 180-4), for the basic-auth verdict cache's keys.
//
// Our own ~80 lines rather than Poco's SHA2Engine or OpenSSL: those would
// map Poco Foundation (1.4 MiB resident) or OpenSSL into every exporter,
// HTTPS or not, for one hash of a few dozen bytes per authenticated
// request (DESIGN.md, Performance). Checked against the FIPS 180-4
// examples in sha256_test.cpp. Not constant-time; it hashes what the cache
// stores, never compares secrets. Thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sysmetrics {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // The digest as 64 lowercase hex digits; the object is spent after.
  std::string HexDigest();

 private:
  void Block(const unsigned char* p);

  std::array<std::uint32_t, 8> h_;
  std::array<unsigned char, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;  // bytes
};

}  // namespace sysmetrics
