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

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  (void)instance;
  (void)em;
  (void)err;
  (void)err_len;
  return SM_OK;
}

TEST_PLUGIN("create_fails", NULL, 0, create, collect, NULL)
