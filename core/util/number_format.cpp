#include "util/number_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace sysmetrics {

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[32];
  // Most values are whole numbers (counters, byte and page counts), and
  // printing them as integers costs a fraction of the shortest-round-trip
  // search to_chars(double) does. The result must be what that would print:
  // below 2^53 every integer is exact, so its shortest form has the
  // integer's significant digits, and to_chars picks the shorter of fixed
  // ("1000") and scientific ("1e+03"), fixed on a tie. -0 keeps its sign
  // through to_chars(double).
  constexpr double kExactBelow = 9007199254740992.0;  // 2^53
  if (std::fabs(v) < kExactBelow && v == std::trunc(v) &&
      !(v == 0 && std::signbit(v))) {
    const auto n = static_cast<std::int64_t>(v);
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    const char* digits = n < 0 ? buf + 1 : buf;
    const auto fixed = static_cast<std::size_t>(r.ptr - digits);
    std::size_t significant = fixed;
    while (significant > 1 && digits[significant - 1] == '0') --significant;
    // d[.ddd]e+XX: the exponent (fixed - 1 < 16) always takes two digits.
    const std::size_t scientific = significant + (significant > 1 ? 1 : 0) + 4;
    if (fixed <= scientific) {
      out.append(buf, r.ptr);
      return;
    }
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace sysmetrics
