/* The descriptor says "other" but the file is name_mismatch.so: refused. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  (void)instance;
  (void)em;
  (void)err;
  (void)err_len;
  return SM_OK;
}

TEST_PLUGIN("other", NULL, 0, test_create, collect, NULL)
