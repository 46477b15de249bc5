// The shape of a bcrypt hash: what the configuration accepts as a basic-auth
// user's password hash and what the HTTP edge verifies with crypt(3). A
// pure function; thread-safe.
#pragma once

#include <string_view>

namespace sysmetrics {

// Whether text has the shape of a bcrypt hash crypt(3) can verify:
// $2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash.
bool IsBcryptHash(std::string_view text);

}  // namespace sysmetrics
