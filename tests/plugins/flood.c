/* Emits a million samples: the host's sample limit must stop it. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  sm_family f;
  sm_sample s;
  sm_label l[1];
  char value[32];
  int i;
  (void)instance;
  memset(&f, 0, sizeof f);
  memset(&s, 0, sizeof s);
  f.struct_size = sizeof f;
  f.name = "sysmetrics_flood";
  f.help = "Too many samples.";
  f.type = SM_METRIC_GAUGE;
  s.struct_size = sizeof s;
  s.labels = l;
  s.n_labels = 1;
  l[0].name = "i";
  l[0].value = value;
  test_api->begin_family(em, &f);
  for (i = 0; i < 1000000; ++i) {
    snprintf(value, sizeof value, "%d", i);
    s.value = i;
    if (test_api->emit_sample(em, &s) == SM_ERR_LIMIT) {
      test_set_error(err, err_len, "stopped at the host's sample limit");
      return SM_ERR_LIMIT;
    }
  }
  return SM_OK;
}

TEST_PLUGIN("flood", NULL, 0, test_create, collect, NULL)
