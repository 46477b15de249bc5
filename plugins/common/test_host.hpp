// A Host for plugin unit tests: its table holds the host's own regular
// expressions (core/scrape/host_regex.cpp, compiled into the test through
// the sysmetrics_test_host library) and nothing else.
#pragma once

#include <sysmetrics/plugin.hpp>

#include "scrape/host_regex.hpp"

namespace sysmetrics::plugin {

inline const Host& TestHost() {
  static const sm_host_api api = [] {
    sm_host_api a{};
    a.struct_size = sizeof a;
    a.abi_major = SM_ABI_VERSION_MAJOR;
    a.abi_minor = SM_ABI_VERSION_MINOR;
    a.regex_compile = &HostRegexCompile;
    a.regex_search = &HostRegexSearch;
    a.regex_free = &HostRegexFree;
    return a;
  }();
  static const Host host(nullptr, &api);
  return host;
}

}  // namespace sysmetrics::plugin
