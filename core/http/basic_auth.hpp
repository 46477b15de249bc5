// HTTP basic authentication against bcrypt hashes, in the manner of the
// Prometheus exporter-toolkit's basic_auth_users.
//
// Verifying a bcrypt hash costs tens of milliseconds by design, so results
// are cached under a SHA-256 of user, password and hash (never the
// password itself), and Check() belongs off the I/O thread; the server runs
// only a few Checks at once, so wrong passwords cannot take every worker. An
// unknown user is checked against a dummy hash, so the time taken does not
// reveal which users exist. Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/thread_annotations.hpp"

namespace sysmetrics {

class BasicAuth {
 public:
  // users: name -> bcrypt hash ($2a$, $2b$ or $2y$).
  explicit BasicAuth(std::map<std::string, std::string> users);

  // The verdict for an Authorization header value if it is cached (fast),
  // else nullopt.
  std::optional<bool> Cached(std::string_view authorization) const;
  // The verdict, computing and caching it on a miss (slow).
  bool Check(std::string_view authorization);

 private:
  struct Credentials {
    std::string user;
    std::string password;
  };
  static std::optional<Credentials> Decode(std::string_view authorization);
  std::string CacheKey(const Credentials& c) const;

  std::map<std::string, std::string> users_;
  std::string dummy_hash_;
  mutable Mutex mu_;
  // Verdicts, by CacheKey.
  std::unordered_set<std::string> good_ GUARDED_BY(mu_);
  std::unordered_set<std::string> bad_ GUARDED_BY(mu_);
};

// A new bcrypt ($2b$) hash of password at the given cost; empty on failure.
std::string HashPassword(const std::string& password, int cost = 10);

// Verifies password against a crypt(3) hash in constant time.
bool VerifyPassword(const std::string& password, const std::string& hash);

}  // namespace sysmetrics
