/* collect sleeps sleep_ms milliseconds (an option) before emitting: for
 * deadlines. Counts its calls, so a test can tell it was not started twice
 * while still running. */
#define _POSIX_C_SOURCE 199309L
#include <time.h>

#include "test_plugin.h"

static const sm_option kOptions[] = {
    {sizeof(sm_option), "sleep_ms", SM_OPT_INT, "How long collect sleeps.",
     3000, 0.0, NULL, NULL},
};

static int64_t sleep_ms;
static double calls;

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  test_create(host, api, instance, err, err_len);
  return api->config_int(host, "sleep_ms", &sleep_ms);
}

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  struct timespec ts;
  (void)instance;
  (void)err;
  (void)err_len;
  calls += 1;
  ts.tv_sec = (time_t)(sleep_ms / 1000);
  ts.tv_nsec = (long)(sleep_ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
  return test_gauge(em, "sysmetrics_slow_calls", calls);
}

TEST_PLUGIN("slow", kOptions, 1, create, collect, NULL)
