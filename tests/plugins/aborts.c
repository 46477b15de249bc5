/* Calls abort() in collect(), as a failed assertion in a plugin would. */
#include <stdlib.h>

#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  (void)instance;
  (void)em;
  (void)err;
  (void)err_len;
  abort();
}

TEST_PLUGIN("aborts", NULL, 0, test_create, collect, NULL)
