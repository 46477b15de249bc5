/* collect sleeps sleep_ms milliseconds (an option), then waits while the
 * file named by hold_while exists (polling every 10 ms; it logs "slow:
 * holding" when it starts to), before emitting: for
 * deadlines. A test that holds it with a file knows it cannot have finished
 * until the test removes the file, however slow the machine. Counts its
 * calls, so a test can tell it was not started twice while still running. */
#define _POSIX_C_SOURCE 199309L
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "test_plugin.h"

static const sm_option kOptions[] = {
    {sizeof(sm_option), "sleep_ms", SM_OPT_INT, "How long collect sleeps.",
     3000, 0.0, NULL, NULL},
    {sizeof(sm_option), "hold_while", SM_OPT_STRING,
     "collect() waits while this file exists.", 0, 0.0, "", NULL},
};

/* Per instance: a reload creates a new instance while the old one may still
 * be collecting. */
typedef struct {
  int64_t sleep_ms;
  const char* hold_while;
  double calls;
} slow_state;

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  slow_state* st;
  sm_status status;
  test_create(host, api, instance, err, err_len);
  st = calloc(1, sizeof *st);
  if (st == NULL) return SM_ERR_LIMIT;
  status = api->config_int(host, "sleep_ms", &st->sleep_ms);
  if (status == SM_OK) {
    status = api->config_string(host, "hold_while", &st->hold_while);
  }
  if (status != SM_OK) {
    free(st);
    return status;
  }
  *instance = st;
  return SM_OK;
}

static void destroy(void* instance) { free(instance); }

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  slow_state* st = instance;
  struct timespec ts;
  (void)err;
  (void)err_len;
  st->calls += 1;
  ts.tv_sec = (time_t)(st->sleep_ms / 1000);
  ts.tv_nsec = (long)(st->sleep_ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
  ts.tv_sec = 0;
  ts.tv_nsec = 10L * 1000 * 1000;
  if (st->hold_while[0] != '\0' && access(st->hold_while, F_OK) == 0) {
    /* Tells the test the hold has begun: the run is in flight. */
    test_api->log(test_host, SM_LOG_INFO, "slow: holding");
    while (access(st->hold_while, F_OK) == 0) nanosleep(&ts, NULL);
  }
  return test_gauge(em, "sysmetrics_slow_calls", st->calls);
}

TEST_PLUGIN("slow", kOptions, 2, create, collect, destroy)
