/* create fails with a configuration status and a reason. */
#include "test_plugin.h"

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  (void)host;
  (void)api;
  (void)instance;
  test_set_error(err, err_len, "create_fails: intentional failure");
  return SM_ERR;
}

TEST_PLUGIN("create_fails", NULL, 0, create, test_noop_collect, NULL)
