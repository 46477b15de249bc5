#include "util/number_format.hpp"

#include <doctest/doctest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sysmetrics {
namespace {

std::string Value(double v) {
  std::string s;
  AppendValue(s, v);
  return s;
}

TEST_CASE("values print as the shortest text that reads back the same") {
  CHECK(Value(42) == "42");
  CHECK(Value(12345.67) == "12345.67");
  CHECK(Value(0.1) == "0.1");
  CHECK(Value(-3.5) == "-3.5");
  CHECK(Value(0) == "0");
  CHECK(Value(1e21) == "1e+21");
  CHECK(Value(18446744073709551615.0) == "18446744073709551616");
  CHECK(Value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(Value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(Value(-std::numeric_limits<double>::infinity()) == "-Inf");
  for (const double v : {1.0 / 3, 2.0 / 3, 1e-300, 123456789.123456789}) {
    CHECK(std::stod(Value(v)) == v);
  }
}

// The whole-number shortcut must print what to_chars(double) prints, fixed
// or scientific, at every length and sign.
TEST_CASE("whole numbers print exactly as the general path does") {
  const auto general = [](double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  };
  std::vector<double> values = {0.0,
                                -0.0,
                                9007199254740991.0,
                                -9007199254740991.0,
                                9007199254740992.0,
                                4503599627370496.5};
  double p = 1;
  for (int exponent = 0; exponent < 17; ++exponent, p *= 10) {
    for (const double m : {1.0, 2.0, 9.0, 10.0, 11.0, 99.0, 100.0, 101.0, 120.0,
                           1234.0, 100000.0, 123000.0}) {
      values.push_back(p * m);
      values.push_back(p * m + 1);
      values.push_back(p * m - 1);
    }
  }
  for (std::uint64_t x = 1; x < 9007199254740992ULL; x = x * 3 + 7) {
    values.push_back(static_cast<double>(x));
  }
  for (int i = -2000; i <= 2000; ++i) values.push_back(i * 1000.0);
  std::size_t checked = 0;
  for (const double v : values) {
    for (const double s : {v, -v}) {
      CHECK_MESSAGE(Value(s) == general(s), general(s));
      ++checked;
    }
  }
  CHECK(checked == 2 * values.size());
}

}  // namespace
}  // namespace sysmetrics
