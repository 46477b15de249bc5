#include "fatal_signal.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>

namespace sysmetrics {
namespace {

TEST_CASE("PluginCallScope marks the innermost call of its own thread") {
  CHECK(PluginCallScope::Current() == nullptr);
  {
    const PluginCallScope load("demo", "load", "/p/demo.so");
    CHECK(PluginCallScope::Current() == &load);
    {
      const PluginCallScope entry("demo", "entry", "/p/demo.so");
      REQUIRE(PluginCallScope::Current() == &entry);
      CHECK(std::string(PluginCallScope::Current()->call()) == "entry");
      // Another thread is not inside this call.
      const PluginCallScope* other = &entry;
      std::thread([&other] { other = PluginCallScope::Current(); }).join();
      CHECK(other == nullptr);
    }
    CHECK(PluginCallScope::Current() == &load);
  }
  CHECK(PluginCallScope::Current() == nullptr);
}

TEST_CASE("PluginCallScope stands in for missing names") {
  const PluginCallScope scope(nullptr, nullptr, nullptr);
  CHECK(std::string(scope.collector()) == "?");
  CHECK(std::string(scope.call()) == "?");
  CHECK(std::string(scope.file()) == "?");
}

}  // namespace
}  // namespace sysmetrics
