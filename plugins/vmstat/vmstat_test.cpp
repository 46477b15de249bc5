#include "vmstat.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sysmetrics::vmstat {
namespace {

constexpr std::string_view kFile = "/proc/vmstat";

TEST_CASE("a 6.x kernel's lines, in file order") {
  VmStat v;
  std::string err;
  REQUIRE(
      ParseVmStat("nr_free_pages 1234567\npgpgin 88\npgfault 999\n"
                  "oom_kill 2\n",
                  kFile, &v, &err));
  REQUIRE(v.fields.size() == 4);
  CHECK(v.fields[0].name == "nr_free_pages");
  CHECK(v.fields[0].value == 1234567);
  CHECK(v.fields[0].line == 1);
  CHECK(v.fields[3].name == "oom_kill");
  CHECK(v.fields[3].value == 2);
  CHECK(v.skipped.empty());
}

TEST_CASE("a 2.6 kernel: fewer names, no final newline") {
  VmStat v;
  std::string err;
  REQUIRE(ParseVmStat("nr_dirty 5\npgpgin 1\npgpgout 2\npswpin 0\npswpout 0",
                      kFile, &v, &err));
  CHECK(v.fields.size() == 5);
  CHECK(v.fields[4].name == "pswpout");
}

TEST_CASE(
    "a wrapped %lu (a negative per-CPU drift) is still a number; "
    "extra fields and blank lines are ignored") {
  VmStat v;
  std::string err;
  REQUIRE(
      ParseVmStat("\nnr_zone_write_pending 18446744073709551615\n"
                  "pgfault 10 future\n  \n",
                  kFile, &v, &err));
  REQUIRE(v.fields.size() == 2);
  CHECK(v.fields[0].value == 18446744073709551615u);
  CHECK(v.fields[1].value == 10);
  CHECK(v.skipped.empty());
}

TEST_CASE("one bad line costs that line only") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"pgfault", "pgfault: no value"},
      {"pgfault x1", "pgfault: value 'x1' is not a number"},
      {"pgfault -1", "pgfault: value '-1' is not a number"},
      {"pgfault 1.5", "pgfault: value '1.5' is not a number"},
      {"pg-fault 1",
       "field name 'pg-fault' has a character other than [A-Za-z0-9_]"},
      {"pgfault: 1",
       "field name 'pgfault:' has a character other than [A-Za-z0-9_]"},
      {"nr_free_pages 3", "nr_free_pages repeats line 1"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text =
        std::string("nr_free_pages 100\n") + c.line + "\npgpgin 7\n";
    VmStat v;
    std::string err;
    REQUIRE(ParseVmStat(text, kFile, &v, &err));
    REQUIRE(v.fields.size() == 2);
    CHECK(v.fields[0].name == "nr_free_pages");
    CHECK(v.fields[0].value == 100);  // the earlier value stays
    CHECK(v.fields[1].name == "pgpgin");
    REQUIRE(v.skipped.size() == 1);
    CHECK(v.skipped[0].line == 2);
    CHECK(v.skipped[0].reason == c.reason);
  }
}

TEST_CASE("a thousand names, each repeated once: every repeat is found") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "f" + std::to_string(i) + " 1\n";
  for (int i = 0; i < 1000; ++i) text += "f" + std::to_string(i) + " 2\n";
  VmStat v;
  std::string err;
  REQUIRE(ParseVmStat(text, kFile, &v, &err));
  CHECK(v.fields.size() == 1000);
  CHECK(v.skipped.size() == 1000);
  CHECK(v.skipped[999].reason == "f999 repeats line 1000");
}

TEST_CASE("nothing usable fails with the file and no line number") {
  const std::string kNone = "/proc/vmstat: no 'name value' line could be read";
  VmStat v;
  std::string err;
  CHECK_FALSE(ParseVmStat("", kFile, &v, &err));
  CHECK(err == kNone);
  CHECK(v.skipped.empty());
  err.clear();
  CHECK_FALSE(ParseVmStat("\n\t\n", kFile, &v, &err));
  CHECK(err == kNone);
  err.clear();
  CHECK_FALSE(
      ParseVmStat("\x7f"
                  "ELF garbage\n",
                  kFile, &v, &err));
  CHECK(err == kNone);
  REQUIRE(v.skipped.size() == 1);
  CHECK(v.fields.empty());
}

TEST_CASE("a parse replaces the previous result") {
  VmStat v;
  std::string err;
  REQUIRE(ParseVmStat("a 1\nb x\nc 3\n", kFile, &v, &err));
  REQUIRE(v.skipped.size() == 1);
  REQUIRE(ParseVmStat("c 4\na 5\n", kFile, &v, &err));
  REQUIRE(v.fields.size() == 2);
  CHECK(v.fields[0].name == "c");
  CHECK(v.fields[1].value == 5);
  CHECK(v.skipped.empty());
}

TEST_CASE("the same names again: the same result, and same_names says so") {
  const std::string a = "nr_free_pages 100\npgpgin 7\n\npgfault 9\n";
  const std::string b = "nr_free_pages 101\npgpgin 8\n\npgfault 10 x\n";
  VmStat v;
  std::string err;
  REQUIRE(ParseVmStat(a, kFile, &v, &err));
  CHECK_FALSE(v.same_names);
  REQUIRE(ParseVmStat(b, kFile, &v, &err));
  CHECK(v.same_names);
  REQUIRE(v.fields.size() == 3);
  CHECK(v.fields[0].value == 101);
  CHECK(v.fields[2].name == "pgfault");
  CHECK(v.fields[2].value == 10);
  CHECK(v.fields[2].line == 4);
  CHECK(v.skipped.empty());
}

TEST_CASE("after a clean parse, any other text is parsed in full") {
  const std::string clean = "a 1\nb 2\nc 3\n";
  struct Case {
    const char* text;
    std::size_t fields;
    const char* reason;  // of the one skipped line, or ""
  };
  const Case cases[] = {
      {"a 1\nb 2\n", 2, ""},            // a name fewer
      {"a 1\nb 2\nc 3\nd 4\n", 4, ""},  // a name more
      {"a 1\nc 3\nb 2\n", 3, ""},       // another order
      {"a 1\nbb 2\nc 3\n", 3, ""},      // a longer name
      {"a 1\nb 2\nc x\n", 2, "c: value 'x' is not a number"},
      {"a 1\nb\nc 3\n", 2, "b: no value"},
      {"a 1\nb 2\nb 3\n", 2, "b repeats line 2"},
      {"a 1\nb- 2\nc 3\n", 2,
       "field name 'b-' has a character other than [A-Za-z0-9_]"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    VmStat v;
    std::string err;
    REQUIRE(ParseVmStat(clean, kFile, &v, &err));
    REQUIRE(ParseVmStat(c.text, kFile, &v, &err));
    CHECK_FALSE(v.same_names);
    CHECK(v.fields.size() == c.fields);
    if (*c.reason == '\0') {
      CHECK(v.skipped.empty());
    } else {
      REQUIRE(v.skipped.size() == 1);
      CHECK(v.skipped[0].reason == c.reason);
    }
    // And the text after it is checked in full again, not taken as known.
    REQUIRE(ParseVmStat(clean, kFile, &v, &err));
    CHECK_FALSE(v.same_names);
    CHECK(v.fields.size() == 3);
  }
}

TEST_CASE("names after a parse that skipped a line are not taken as known") {
  VmStat v;
  std::string err;
  REQUIRE(ParseVmStat("a 1\na 2\n", kFile, &v, &err));
  REQUIRE(v.skipped.size() == 1);
  REQUIRE(ParseVmStat("a 1\na 2\n", kFile, &v, &err));
  CHECK_FALSE(v.same_names);
  CHECK(v.fields.size() == 1);
  REQUIRE(v.skipped.size() == 1);
  CHECK(v.skipped[0].reason == "a repeats line 1");
}

}  // namespace
}  // namespace sysmetrics::vmstat
