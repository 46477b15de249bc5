/* A third-party plugin that succeeds on odd collects and fails on even ones:
 * a family it has served stays its own while it fails, so a collector merged
 * later (textfile) cannot take the name over. */
#include "test_plugin.h"

static unsigned long collects_;

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  unsigned long n = __atomic_add_fetch(&collects_, 1, __ATOMIC_RELAXED);
  (void)instance;
  if (n % 2 == 0) {
    test_set_error(err, err_len, "/fake/flaky:1: fails every other time");
    return SM_ERR_PARSE;
  }
  return test_gauge(em, "sysmetrics_flaky_value", 1);
}

TEST_PLUGIN("flaky", NULL, 0, test_create, collect, NULL)
