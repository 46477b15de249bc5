#include "http/basic_auth.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/SHA2Engine.h>
#include <crypt.h>

#include <istream>
#include <iterator>
#include <memory>
#include <sstream>

namespace sysmetrics {
namespace {

// Bounds each cache: a client trying many passwords cannot grow it without
// limit; when full it starts over. Good and bad verdicts are kept apart, so
// a flood of wrong passwords only ever flushes wrong passwords, never the
// verdict Prometheus relies on.
constexpr std::size_t kMaxCached = 1024;

// Standard base64 with padding (RFC 4648 section 4), as RFC 7617 asks;
// Poco's decoder throws on a character outside the alphabet and on a
// truncated group.
std::optional<std::string> DecodeBase64(std::string_view in) {
  // Poco's decoder skips whitespace inside the text; the header's value
  // has none, so any is malformed.
  if (in.find_first_of(" \t\r\n") != std::string_view::npos) {
    return std::nullopt;
  }
  try {
    std::istringstream encoded{std::string(in)};
    Poco::Base64Decoder decoder(encoded);
    std::string out{std::istreambuf_iterator<char>(decoder),
                    std::istreambuf_iterator<char>()};
    if (decoder.bad()) return std::nullopt;
    return out;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

std::string HashPassword(const std::string& password, int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0,
                       salt, sizeof salt) == nullptr) {
    return {};
  }
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(password.c_str(), salt, data.get());
  if (out == nullptr || out[0] == '*') return {};
  return out;
}

bool VerifyPassword(const std::string& password, const std::string& hash) {
  // crypt_data is 32 KiB: on the heap, once per thread.
  thread_local std::unique_ptr<crypt_data> data;
  if (!data) data = std::make_unique<crypt_data>();
  data->initialized = 0;
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  return out != nullptr && out[0] != '*' && ConstantTimeEqual(out, hash);
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users)
    : users_(std::move(users)),
      dummy_hash_(HashPassword("sysmetrics dummy password", 10)) {}

std::optional<BasicAuth::Credentials> BasicAuth::Decode(
    std::string_view authorization) {
  constexpr std::string_view kScheme = "basic ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if ((authorization[i] | 0x20) != kScheme[i]) return std::nullopt;
  }
  authorization.remove_prefix(kScheme.size());
  while (!authorization.empty() && authorization.front() == ' ') {
    authorization.remove_prefix(1);
  }
  std::optional<std::string> decoded = DecodeBase64(authorization);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::string BasicAuth::CacheKey(const Credentials& c) const {
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  sha.update(c.user);
  sha.update('\0');
  sha.update(c.password);
  sha.update('\0');
  const auto it = users_.find(c.user);
  if (it != users_.end()) sha.update(it->second);
  return Poco::DigestEngine::digestToHex(sha.digest());
}

std::optional<bool> BasicAuth::Cached(std::string_view authorization) const {
  const std::optional<Credentials> c = Decode(authorization);
  if (!c) return false;  // not basic auth at all: no hash to check
  const std::string key = CacheKey(*c);
  MutexLock lock(mu_);
  if (good_.count(key) != 0) return true;
  if (bad_.count(key) != 0) return false;
  return std::nullopt;
}

bool BasicAuth::Check(std::string_view authorization) {
  const std::optional<Credentials> c = Decode(authorization);
  if (!c) return false;
  const std::string key = CacheKey(*c);
  {
    MutexLock lock(mu_);
    if (good_.count(key) != 0) return true;
    if (bad_.count(key) != 0) return false;
  }
  const auto it = users_.find(c->user);
  const bool known = it != users_.end();
  // The same work whether or not the user exists.
  const bool match =
      VerifyPassword(c->password, known ? it->second : dummy_hash_) && known;
  MutexLock lock(mu_);
  auto& cache = match ? good_ : bad_;
  if (cache.size() >= kMaxCached) cache.clear();
  cache.insert(key);
  return match;
}

}  // namespace sysmetrics
