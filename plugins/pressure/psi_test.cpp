#include "psi.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sysmetrics::pressure {
namespace {

constexpr std::string_view kFile = "/proc/pressure/io";

TEST_CASE("some and full, as io and memory have had since 4.20") {
  Psi p;
  std::string err;
  REQUIRE(
      ParsePsi("some avg10=0.12 avg60=0.34 avg300=0.56 total=123456789\n"
               "full avg10=0.00 avg60=0.01 avg300=0.02 total=98765\n",
               kFile, &p, &err));
  CHECK(p.some_us == 123456789u);
  CHECK(p.full_us == 98765u);
  CHECK(p.skipped.empty());
}

TEST_CASE("cpu before 5.13: some only") {
  Psi p;
  std::string err;
  REQUIRE(ParsePsi("some avg10=1.00 avg60=2.00 avg300=3.00 total=42\n", kFile,
                   &p, &err));
  CHECK(p.some_us == 42u);
  CHECK_FALSE(p.full_us);
}

TEST_CASE("irq (6.1+): full only") {
  Psi p;
  std::string err;
  REQUIRE(ParsePsi("full avg10=0.00 avg60=0.00 avg300=0.00 total=7", kFile, &p,
                   &err));
  CHECK_FALSE(p.some_us);
  CHECK(p.full_us == 7u);
}

TEST_CASE("fields a later kernel adds or moves are not in the way") {
  Psi p;
  std::string err;
  REQUIRE(
      ParsePsi("some total=5 avg10=0.00 future=1\n"
               "full avg10=0.00 avg60=0.00 avg300=0.00 avg3600=0.00 "
               "total=6 max=9\n\n",
               kFile, &p, &err));
  CHECK(p.some_us == 5u);
  CHECK(p.full_us == 6u);
  CHECK(p.skipped.empty());
}

TEST_CASE("one bad line costs that line only") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"full avg10=0.00 avg60=0.00 avg300=0.00 total=x1",
       "full: total 'x1' is not a number"},
      {"full avg10=0.00 avg60=0.00 avg300=0.00 total=",
       "full: total '' is not a number"},
      {"full avg10=0.00 avg60=0.00 avg300=0.00 total=-1",
       "full: total '-1' is not a number"},
      {"full avg10=0.00 avg60=0.00 avg300=0.00", "full: no total= field"},
      {"full", "full: no total= field"},
      {"most avg10=0.00 total=3", "line kind 'most' is not some or full"},
      {"some avg10=0.00 total=3", "some repeats line 1"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text =
        std::string("some avg10=0.00 avg60=0.00 avg300=0.00 total=100\n") +
        c.line + "\n";
    Psi p;
    std::string err;
    REQUIRE(ParsePsi(text, kFile, &p, &err));
    CHECK(p.some_us == 100u);  // the earlier value stays
    CHECK_FALSE(p.full_us);
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].line == 2);
    CHECK(p.skipped[0].reason == c.reason);
  }
}

TEST_CASE("nothing usable fails with the file and no line number") {
  const std::string kNone =
      "/proc/pressure/io: no some or full line could be "
      "read";
  Psi p;
  std::string err;
  CHECK_FALSE(ParsePsi("", kFile, &p, &err));
  CHECK(err == kNone);
  CHECK(p.skipped.empty());
  err.clear();
  CHECK_FALSE(ParsePsi("\n \n", kFile, &p, &err));
  CHECK(err == kNone);
  err.clear();
  CHECK_FALSE(
      ParsePsi("\x7f"
               "ELF garbage\n",
               kFile, &p, &err));
  CHECK(err == kNone);
  REQUIRE(p.skipped.size() == 1);
  CHECK(p.skipped[0].reason ==
        "line kind '\x7f"
        "ELF' is not some or full");
}

TEST_CASE("a parse replaces the previous result") {
  Psi p;
  std::string err;
  REQUIRE(ParsePsi("some total=1\nfull total=2\nbad\n", kFile, &p, &err));
  REQUIRE(p.skipped.size() == 1);
  REQUIRE(ParsePsi("some total=3\n", kFile, &p, &err));
  CHECK(p.some_us == 3u);
  CHECK_FALSE(p.full_us);
  CHECK(p.skipped.empty());
}

}  // namespace
}  // namespace sysmetrics::pressure
