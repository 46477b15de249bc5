/* create fails with a reason; the status (default SM_ERR) is an option. */
#include "test_plugin.h"

static const sm_option kOptions[] = {
    {sizeof(sm_option), "status", SM_OPT_INT,
     "What create returns: 1 (SM_ERR) or 4 (SM_ERR_CONFIG).", SM_ERR, 0.0, NULL,
     NULL},
};

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  int64_t status = SM_ERR;
  (void)instance;
  api->config_int(host, "status", &status);
  test_set_error(err, err_len, "create_fails: intentional failure");
  return status == SM_ERR_CONFIG ? SM_ERR_CONFIG : SM_ERR;
}

TEST_PLUGIN("create_fails", kOptions, 1, create, test_noop_collect, NULL)
