/* The descriptor says "other" but the file is name_mismatch.so: refused. */
#include "test_plugin.h"

TEST_PLUGIN("other", NULL, 0, test_create, test_noop_collect, NULL)
