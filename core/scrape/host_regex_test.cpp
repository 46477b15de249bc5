#include "scrape/host_regex.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "scrape/collector.hpp"

namespace sysmetrics {
namespace {

int Search(const sm_regex* re, const std::string& text) {
  return HostRegexSearch(re, text.data(), text.size());
}

TEST_CASE("host regexes search ECMAScript patterns anywhere in the text") {
  sm_regex* re = HostRegexCompile(nullptr, "^(ram|loop)\\d+$", nullptr, 0);
  REQUIRE(re != nullptr);
  CHECK(Search(re, "loop0") == 1);
  CHECK(Search(re, "ram12") == 1);
  CHECK(Search(re, "sda") == 0);
  CHECK(Search(re, "loop") == 0);
  // Bytes past len are not read: "loop1" cut to "loop".
  CHECK(HostRegexSearch(re, "loop1", 4) == 0);
  HostRegexFree(re);
  sm_regex* any = HostRegexCompile(nullptr, "ns", nullptr, 0);
  REQUIRE(any != nullptr);
  CHECK(Search(any, "nsfs") == 1);  // a search, not a whole match
  CHECK(Search(any, "") == 0);
  HostRegexFree(any);
  HostRegexFree(nullptr);
}

TEST_CASE("an invalid pattern is NULL with the engine's reason, cut to fit") {
  char err[128] = "unchanged";
  CHECK(HostRegexCompile(nullptr, "(", err, sizeof err) == nullptr);
  CHECK(std::strlen(err) > 0);
  CHECK(std::string(err) != "unchanged");
  char tiny[4] = "xyz";
  CHECK(HostRegexCompile(nullptr, "[", tiny, sizeof tiny) == nullptr);
  CHECK(std::strlen(tiny) == 3);  // three characters and the NUL
  CHECK(HostRegexCompile(nullptr, "(", nullptr, 0) == nullptr);
  CHECK(HostRegexSearch(nullptr, "x", 1) == -1);
}

TEST_CASE("the host table offers the regex functions (1.3)") {
  const sm_host_api& api = HostApi();
  REQUIRE(SM_HAS_MEMBER(&api, sm_host_api, regex_free));
  CHECK(api.abi_minor >= 3);
  sm_regex* re = api.regex_compile(nullptr, "^eth", nullptr, 0);
  REQUIRE(re != nullptr);
  CHECK(api.regex_search(re, "eth0", 4) == 1);
  api.regex_free(re);
}

}  // namespace
}  // namespace sysmetrics
