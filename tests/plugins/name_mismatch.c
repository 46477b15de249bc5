/* Descriptor name "other" in name_mismatch.so: the host must refuse it. */
#include "test_plugin.h"

TEST_PLUGIN("other", NULL, 0, test_create, test_noop_collect, NULL)
