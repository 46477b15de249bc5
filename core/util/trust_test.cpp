#include "util/trust.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace sysmetrics {
namespace {

TEST_CASE("CheckTrusted: ownership and write bits up to the root") {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/sysmetrics-trust-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const fs::path dir = tmpl;
  const fs::path file = dir / "p.so";
  std::ofstream(file) << "x";
  fs::permissions(dir, fs::perms(0755));
  fs::permissions(file, fs::perms(0755));
  // /tmp is world-writable with the sticky bit: fine above a plugin.
  CHECK(CheckTrusted(file).ok());
  CHECK(CheckTrusted(dir).ok());
  fs::permissions(file, fs::perms(0775));
  CHECK(CheckTrusted(file).message() ==
        file.string() + " is writable by its group (mode 0775)");
  fs::permissions(file, fs::perms(0755));
  fs::permissions(dir, fs::perms(0757));
  CHECK(CheckTrusted(file).message() ==
        dir.string() + " is writable by everyone (mode 0757)");
  CHECK(CheckTrusted(dir / "missing.so").message().rfind("cannot resolve", 0) ==
        0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sysmetrics
