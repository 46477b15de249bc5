/* Reports skipped lines (ABI 1.2 skip_line) and succeeds: lines 1..lines of
 * "/fake/skip" on every collect, and one line new to each collect (1000 +
 * the call count). Emits sysmetrics_skips_lines_calls. */
#include <stdlib.h>

#include "test_plugin.h"

static const sm_option kOptions[] = {
    {sizeof(sm_option), "lines", SM_OPT_INT,
     "Lines 1..lines are reported skipped on every collect.", 3, 0.0, NULL,
     NULL},
};

typedef struct {
  int64_t lines;
  double calls;
} skips_state;

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  skips_state* st;
  test_create(host, api, instance, err, err_len);
  st = calloc(1, sizeof *st);
  if (st == NULL) return SM_ERR_LIMIT;
  if (api->config_int(host, "lines", &st->lines) != SM_OK) {
    free(st);
    return SM_ERR_CONFIG;
  }
  *instance = st;
  return SM_OK;
}

static void destroy(void* instance) { free(instance); }

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  skips_state* st = instance;
  int64_t i;
  (void)err;
  (void)err_len;
  st->calls += 1;
  for (i = 1; i <= st->lines; ++i) {
    test_api->skip_line(em, "/fake/skip", (uint64_t)i, "not a number");
  }
  test_api->skip_line(em, "/fake/skip", (uint64_t)(1000 + st->calls),
                      "new every time");
  return test_gauge(em, "sysmetrics_skips_lines_calls", st->calls);
}

TEST_PLUGIN("skips_lines", kOptions, 1, create, collect, destroy)
