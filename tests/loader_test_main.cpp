// loader_test's main: doctest, or the helper process of an isolated
// collector when started as one (the tests isolate plugins with this very
// binary, as sysmetrics does with itself).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <string_view>

#include "scrape/plugin_helper.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == sysmetrics::kPluginHostFlag) {
    return sysmetrics::RunPluginHost(argc, argv);
  }
  return doctest::Context(argc, argv).run();
}
