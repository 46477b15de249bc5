/* Begins a million families, ignoring every status: the host must bound it
 * (families count against the sample limit) and stay cheap past the limit. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  sm_family f;
  char name[48];
  int i;
  (void)instance;
  (void)err;
  (void)err_len;
  memset(&f, 0, sizeof f);
  f.struct_size = sizeof f;
  f.name = name;
  f.help = "One of too many families.";
  f.type = SM_METRIC_GAUGE;
  for (i = 0; i < 1000000; ++i) {
    snprintf(name, sizeof name, "sysmetrics_flood_families_%d", i);
    test_api->begin_family(em, &f);
  }
  return SM_OK;
}

TEST_PLUGIN("flood_families", NULL, 0, test_create, collect, NULL)
