/* Claims SM_PLUGIN_NONBLOCKING, then blocks: collect waits while the file
 * named by the option block_while exists (polling every 10 ms), so a test
 * can make it block and then remove the cause; logs "blocks_inline:
 * blocking" when it starts to. Emits
 * sysmetrics_blocks_inline_calls. */
#define _POSIX_C_SOURCE 199309L
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "test_plugin.h"

static const sm_option kOptions[] = {
    {sizeof(sm_option), "block_while", SM_OPT_STRING,
     "collect() blocks while this file exists.", 0, 0.0, "", NULL},
};

typedef struct {
  const char* block_while;
  double calls;
} blocks_state;

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  blocks_state* st;
  test_create(host, api, instance, err, err_len);
  st = calloc(1, sizeof *st);
  if (st == NULL) return SM_ERR_LIMIT;
  if (api->config_string(host, "block_while", &st->block_while) != SM_OK) {
    free(st);
    return SM_ERR_CONFIG;
  }
  *instance = st;
  return SM_OK;
}

static void destroy(void* instance) { free(instance); }

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  blocks_state* st = instance;
  struct timespec ts = {0, 10L * 1000 * 1000};
  (void)err;
  (void)err_len;
  st->calls += 1;
  if (st->block_while[0] != '\0' && access(st->block_while, F_OK) == 0) {
    /* Tells the test the block has begun. */
    test_api->log(test_host, SM_LOG_INFO, "blocks_inline: blocking");
    while (access(st->block_while, F_OK) == 0) nanosleep(&ts, NULL);
  }
  return test_gauge(em, "sysmetrics_blocks_inline_calls", st->calls);
}

TEST_PLUGIN_WITH_FLAGS("blocks_inline", kOptions, 1, create, collect, destroy,
                       SM_PLUGIN_NONBLOCKING)
