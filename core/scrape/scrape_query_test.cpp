#include "scrape/scrape_query.hpp"

#include <doctest/doctest.h>

namespace sysmetrics {
namespace {

const std::vector<std::string> kNames = {"cpu", "disk", "memory", "network"};

std::vector<bool> Select(std::string_view query) {
  Result<std::vector<bool>> r = SelectCollectors(query, kNames);
  REQUIRE(r.ok());
  return r.value();
}

std::string Error(std::string_view query) {
  Result<std::vector<bool>> r = SelectCollectors(query, kNames);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

TEST_CASE("collect[] selects, exclude[] deselects, nothing means all") {
  CHECK(Select("").empty());
  CHECK(Select("foo=bar&x").empty());
  CHECK(Select("collect[]=cpu&collect[]=memory") ==
        std::vector<bool>{true, false, true, false});
  // As curl -G --data-urlencode and browsers send it.
  CHECK(Select("collect%5B%5D=disk") ==
        std::vector<bool>{false, true, false, false});
  CHECK(Select("collect[]=cpu&collect[]=cpu&&") ==
        std::vector<bool>{true, false, false, false});
  CHECK(Select("exclude[]=disk&exclude%5b%5d=network") ==
        std::vector<bool>{true, false, true, false});
  CHECK(Select("exclude[]=cpu&exclude[]=disk&exclude[]=memory&exclude[]="
               "network") == std::vector<bool>{false, false, false, false});
}

TEST_CASE("unknown, empty and mixed selections name the valid collectors") {
  CHECK(Error("collect[]=cpu&collect[]=gpu") ==
        "unknown collector 'gpu' in collect[]; valid names: cpu, disk, "
        "memory, network");
  CHECK(Error("collect[]=") ==
        "empty collector name in collect[]; valid names: cpu, disk, memory, "
        "network");
  CHECK(Error("exclude[]=cpu%00") ==
        "collector name with control bytes in exclude[]; valid names: cpu, "
        "disk, memory, network");
  CHECK(Error("collect[]=cpu&exclude[]=disk") ==
        "collect[] and exclude[] cannot be combined; use one of them");
  CHECK(Error("collect[]=%zz") == "malformed percent-encoding in the query");
  CHECK(Error("collect[]=cpu%2") == "malformed percent-encoding in the query");
  Result<std::vector<bool>> none = SelectCollectors("collect[]=cpu", {});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error() ==
        "unknown collector 'cpu' in collect[]; valid names: none");
}

TEST_CASE("a disabled or refused collector is named as such") {
  const std::vector<std::string> names = {"cpu", "memory"};
  const std::vector<UnavailableCollector> off = {
      {"textfile", "is disabled: enable it"}, {"gpu", "was refused"}};
  Result<std::vector<bool>> r =
      SelectCollectors("collect[]=cpu&collect[]=textfile", names, off);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "collector 'textfile' in collect[] is disabled: enable it");
  r = SelectCollectors("collect[]=gpu", names, off);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "collector 'gpu' in collect[] was refused");
  // Leaving out what does not run is no error.
  r = SelectCollectors("exclude[]=textfile&exclude[]=memory", names, off);
  REQUIRE(r.ok());
  CHECK(r.value() == std::vector<bool>{true, false});
  r = SelectCollectors("collect[]=nosuch", names, off);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "unknown collector 'nosuch' in collect[]; valid names: cpu, memory");
}

TEST_CASE("percent-decoding") {
  Result<std::string> out = PercentDecode("a%20b+c%2Fd");
  REQUIRE(out.ok());
  CHECK(out.value() == "a b c/d");
  out = PercentDecode("a%2Bb+%25");  // an encoded '+' stays one
  REQUIRE(out.ok());
  CHECK(out.value() == "a+b %");
  for (const char* bad : {"%", "%g0", "ab%2"}) {
    out = PercentDecode(bad);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error() == "malformed percent-encoding");
  }
}

}  // namespace
}  // namespace sysmetrics
