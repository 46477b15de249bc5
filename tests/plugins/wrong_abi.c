/* Built for plugin ABI 2.0: the host must refuse it, naming both versions. */
#include "test_plugin.h"

const sm_plugin* sysmetrics_plugin_entry(uint32_t host_abi_major,
                                         uint32_t host_abi_minor) {
  static const sm_plugin plugin = {sizeof(sm_plugin),
                                   2,
                                   0,
                                   "wrong_abi",
                                   "0.0.1",
                                   "Built for ABI 2.",
                                   NULL,
                                   0,
                                   test_create,
                                   test_noop_collect,
                                   NULL,
                                   0u};
  (void)host_abi_major;
  (void)host_abi_minor;
  return &plugin;
}
