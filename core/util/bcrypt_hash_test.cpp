#include "util/bcrypt_hash.hpp"

#include <doctest/doctest.h>

#include <string>

namespace sysmetrics {
namespace {

TEST_CASE("IsBcryptHash") {
  CHECK_FALSE(IsBcryptHash(""));
  CHECK_FALSE(IsBcryptHash("plaintext"));
  CHECK_FALSE(IsBcryptHash("$1$abc$def"));  // md5-crypt
  const std::string good =
      "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
  CHECK(IsBcryptHash(good));
  CHECK_FALSE(IsBcryptHash(good.substr(1)));
  CHECK_FALSE(IsBcryptHash(good + "x"));
}

}  // namespace
}  // namespace sysmetrics
