/* Leaks memory on every collect: mb_per_collect MiB (option, default 16),
   written so that it is resident and never used again: the process grows
   while the plugin runs, as with a real leak. destroy() frees it, so that
   LeakSanitizer, which runs when a sanitized helper exits after the plugin
   is unloaded, does not report what the test leaks on purpose. Emits
   sysmetrics_leaks_held_bytes. */
#include <stdlib.h>
#include <string.h>

#include "test_plugin.h"

static const sm_option kOptions[] = {
    {sizeof(sm_option), "mb_per_collect", SM_OPT_INT,
     "MiB leaked by each collect().", 16, 0.0, NULL, NULL},
};

typedef struct block {
  struct block* next;
} block;

static block* held; /* every block ever leaked, newest first */
static double held_bytes;
static int64_t mb_per_collect = 16;

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  test_create(host, api, instance, err, err_len);
  if (api->config_int(host, "mb_per_collect", &mb_per_collect) != SM_OK) {
    return SM_ERR_CONFIG;
  }
  return SM_OK;
}

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  const size_t size = (size_t)mb_per_collect << 20;
  block* b = malloc(size);
  (void)instance;
  (void)err;
  (void)err_len;
  if (b != NULL) {
    memset(b, 0x5a, size); /* resident, not just reserved */
    b->next = held;
    held = b;
    held_bytes += (double)size;
  }
  return test_gauge(em, "sysmetrics_leaks_held_bytes", held_bytes);
}

static void destroy(void* instance) {
  (void)instance;
  while (held != NULL) {
    block* next = held->next;
    free(held);
    held = next;
  }
  held_bytes = 0;
}

TEST_PLUGIN("leaks", kOptions, 1, create, collect, destroy)
