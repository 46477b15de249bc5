#include "config/cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sysmetrics {
namespace {

Result<CommandLine> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sysmetrics");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
}

Result<CommandLine> ParseStrings(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const std::string& a : args) argv.push_back(a.c_str());
  return Parse(std::move(argv));
}

TEST_CASE("flags take values with a space or an equals sign") {
  auto r = Parse({"--listen", "127.0.0.1:0", "--procfs=/tmp/p",
                  "--collector.foo", "--no-collector.cpu", "--check-config"});
  REQUIRE(r.ok());
  CHECK(*r.value().listen == "127.0.0.1:0");
  CHECK(*r.value().procfs == "/tmp/p");
  REQUIRE(r.value().collectors.size() == 2);
  CHECK(r.value().collectors[0] == std::make_pair(std::string("foo"), true));
  CHECK(r.value().collectors[1] == std::make_pair(std::string("cpu"), false));
  CHECK(r.value().check_config);
}

TEST_CASE("bad command lines say what is wrong") {
  CHECK(Parse({"--nope"}).error().find("unknown flag --nope") !=
        std::string::npos);
  CHECK(Parse({"--listen"}).error().find("needs a value") != std::string::npos);
  CHECK(Parse({"stray"}).error().find("unexpected argument") !=
        std::string::npos);
  CHECK(Parse({"--help=yes"}).error().find("takes no value") !=
        std::string::npos);
  CHECK(Parse({"--collector."}).error().find("needs a collector name") !=
        std::string::npos);
}

TEST_CASE("every flag in the table is parsed, and the help lists it") {
  // The parser is driven by Flags(), so a flag --help (and the README test
  // that reads --help) does not know cannot be accepted. Check each entry
  // does what its spec says.
  const std::string help = HelpText("sysmetrics");
  for (const FlagSpec& f : Flags()) {
    CAPTURE(f.name);
    CHECK(help.find("--" + std::string(f.name)) != std::string::npos);
    const int actions =
        (f.value != nullptr ? 1 : 0) + (f.toggle != nullptr ? 1 : 0);
    CHECK(actions <= 1);
    if (f.value != nullptr) {
      auto cl = ParseStrings({"--" + std::string(f.name), "x"});
      REQUIRE(cl.ok());
      CHECK(cl.value().*(f.value) == std::optional<std::string>("x"));
    } else if (f.toggle != nullptr) {
      auto cl = ParseStrings({"--" + std::string(f.name)});
      REQUIRE(cl.ok());
      CHECK(cl.value().*(f.toggle));
    } else {
      REQUIRE(f.name.ends_with(".NAME"));
      std::string flag(f.name);
      flag.replace(flag.size() - 4, 4, "disk");
      auto cl = ParseStrings({"--" + flag});
      REQUIRE(cl.ok());
      REQUIRE(cl.value().collectors.size() == 1);
      CHECK(cl.value().collectors[0].first == "disk");
      CHECK(cl.value().collectors[0].second == f.prefix_enables);
    }
  }
  CHECK(!Parse({"--collectorx"}).ok());
  CHECK(!Parse({"--no-collector"}).ok());
}

}  // namespace
}  // namespace sysmetrics
