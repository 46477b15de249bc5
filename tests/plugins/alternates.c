/* Emits a histogram and a gauge each collect, the same types every time; on
 * even collects the gauge is named like one of the histogram's series
 * (sysmetrics_alternates_h_sum), so the merge must drop it then, and only
 * then. */
#include "test_plugin.h"

static unsigned long collects_;

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  unsigned long n = __atomic_add_fetch(&collects_, 1, __ATOMIC_RELAXED);
  sm_family f;
  sm_sample s;
  sm_label inf[1] = {{"le", "+Inf"}};
  (void)instance;
  (void)err;
  (void)err_len;
  test_init(&f, &s);
  f.name = "sysmetrics_alternates_h";
  f.help = "A histogram.";
  f.type = SM_METRIC_HISTOGRAM;
  if (test_api->begin_family(em, &f) != SM_OK) return SM_ERR;
  s.suffix = "_bucket";
  s.labels = inf;
  s.n_labels = 1;
  s.value = 1;
  test_api->emit_sample(em, &s);
  s.suffix = "_sum";
  s.labels = NULL;
  s.n_labels = 0;
  test_api->emit_sample(em, &s);
  s.suffix = "_count";
  test_api->emit_sample(em, &s);
  return test_gauge(em,
                    n % 2 == 0 ? "sysmetrics_alternates_h_sum"
                               : "sysmetrics_alternates_g",
                    7) == SM_OK
             ? SM_OK
             : SM_ERR;
}

TEST_PLUGIN("alternates", NULL, 0, test_create, collect, NULL)
