/* Declares an option whose type is not an sm_option_type (99): the host
   must refuse the plugin, reading the type as an integer (loading it as
   the enum would be undefined behaviour). */
#include "test_plugin.h"

static const sm_option kOptions[] = {
    {sizeof(sm_option), "mystery", (sm_option_type)99, "Not a real type.", 0,
     0.0, NULL, NULL},
};

TEST_PLUGIN("bad_option_type", kOptions, 1, test_create, test_noop_collect,
            NULL)
