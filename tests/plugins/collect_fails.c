/* Emits a family and a sample, then fails: the host must discard them. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  (void)instance;
  test_gauge(em, "sysmetrics_collect_fails_partial", 1);
  test_set_error(err, err_len, "/fake/file:7: intentional parse failure");
  return SM_ERR_PARSE;
}

TEST_PLUGIN("collect_fails", NULL, 0, test_create, collect, NULL)
