#include "cli.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace sysmetrics {
namespace {

Result<CommandLine> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sysmetrics");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
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

TEST_CASE("help lists every flag") {
  const std::string help = HelpText("sysmetrics");
  for (const FlagSpec& f : Flags()) {
    CHECK(help.find("--" + std::string(f.name)) != std::string::npos);
  }
}

}  // namespace
}  // namespace sysmetrics
