#include "util/bcrypt_hash.hpp"

namespace sysmetrics {

bool IsBcryptHash(std::string_view text) {
  // $2b$10$ + 22 characters of salt + 31 of hash.
  if (text.size() != 60 || text[0] != '$' || text[1] != '2' ||
      (text[2] != 'a' && text[2] != 'b' && text[2] != 'y') || text[3] != '$' ||
      text[4] < '0' || text[4] > '3' || text[5] < '0' || text[5] > '9' ||
      text[6] != '$') {
    return false;
  }
  for (const char c : text.substr(7)) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sysmetrics
