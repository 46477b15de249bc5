/* Logs text that could break log lines: quotes, newlines, control
 * characters, bytes that are not UTF-8; then fails with such an error. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  (void)instance;
  (void)em;
  test_api->log(test_host, SM_LOG_WARN,
                "quote\" backslash\\ newline\nforged=1 {\"json\":true} "
                "ctl\x01 bad\xff\xfe end");
  test_set_error(err, err_len, "error with \"quotes\"\nand\xff bytes");
  return SM_ERR;
}

TEST_PLUGIN("hostile_log", NULL, 0, test_create, collect, NULL)
