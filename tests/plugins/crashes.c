/* Dereferences NULL in collect(): a crash inside plugin code, which the
   host must name (collector, call, signal) before the process dies. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  /* A volatile store through a pointer the compiler cannot see is null:
     a real SIGSEGV, not a trap instruction, and not optimised away. */
  volatile int* volatile target = NULL;
  (void)instance;
  (void)em;
  (void)err;
  (void)err_len;
  *target = 1;
  return SM_OK;
}

TEST_PLUGIN("crashes", NULL, 0, test_create, collect, NULL)
