#include "http/basic_auth.hpp"

#include <doctest/doctest.h>

#include <string>

#include "util/bcrypt_hash.hpp"

namespace sysmetrics {
namespace {

// "Basic " + base64(user:password), as a client sends it.
std::string Header(const std::string& credentials) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  std::size_t i = 0;
  for (; i + 2 < credentials.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(credentials[i]) << 16) |
                       (static_cast<unsigned char>(credentials[i + 1]) << 8) |
                       static_cast<unsigned char>(credentials[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) {
      out.push_back(kAlphabet[(n >> shift) & 63]);
    }
  }
  const std::size_t rest = credentials.size() - i;
  if (rest > 0) {
    unsigned n = static_cast<unsigned char>(credentials[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(credentials[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

TEST_CASE("bcrypt hashes are made and verified through crypt(3)") {
  const std::string hash = HashPassword("s3cret", 4);
  REQUIRE(IsBcryptHash(hash));
  CHECK(hash.rfind("$2b$04$", 0) == 0);
  CHECK(VerifyPassword("s3cret", hash));
  CHECK_FALSE(VerifyPassword("s3cret ", hash));
  CHECK_FALSE(VerifyPassword("", hash));
  // $2y$ (htpasswd's) verifies as well.
  std::string y = hash;
  y[2] = 'y';
  CHECK(VerifyPassword("s3cret", y));
}

TEST_CASE("BasicAuth checks users, caches verdicts, rejects malformed") {
  BasicAuth auth({{"alice", HashPassword("wonderland", 4)}});
  const std::string good = Header("alice:wonderland");
  CHECK_FALSE(auth.Cached(good).has_value());
  CHECK(auth.Check(good));
  REQUIRE(auth.Cached(good).has_value());
  CHECK(*auth.Cached(good));

  CHECK_FALSE(auth.Check(Header("alice:looking-glass")));
  CHECK(auth.Cached(Header("alice:looking-glass")) == false);
  CHECK_FALSE(auth.Check(Header("bob:wonderland")));  // unknown user
  CHECK_FALSE(auth.Check(Header("alice")));           // no colon
  CHECK_FALSE(auth.Check("Bearer abc"));
  CHECK_FALSE(auth.Check("Basic !!!"));
  CHECK_FALSE(auth.Check("Basic"));
  // Standard base64 with its padding (RFC 7617): a truncated group, a
  // character outside the alphabet or whitespace inside is malformed.
  CHECK_FALSE(auth.Check(good.substr(0, good.size() - 1)));
  CHECK_FALSE(auth.Check(good.substr(0, 10) + "-" + good.substr(11)));
  CHECK_FALSE(auth.Check(good.substr(0, 10) + " " + good.substr(10)));
  CHECK(auth.Check("basic " + good.substr(6)));  // scheme case-insensitive
  // A password may hold colons; the user name may not.
  BasicAuth colons({{"u", HashPassword("a:b", 4)}});
  CHECK(colons.Check(Header("u:a:b")));
  // Every padding length decodes: user names of 1, 2 and 3 bytes more.
  BasicAuth pads({{"u", HashPassword("p", 4)},
                  {"uu", HashPassword("p", 4)},
                  {"uuu", HashPassword("p", 4)}});
  CHECK(pads.Check(Header("u:p")));
  CHECK(pads.Check(Header("uu:p")));
  CHECK(pads.Check(Header("uuu:p")));
  CHECK_FALSE(pads.Check(Header("uuu:q")));
}

}  // namespace
}  // namespace sysmetrics
