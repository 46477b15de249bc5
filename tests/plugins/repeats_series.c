/* Emits one series twice in a family, the second time with its labels in
 * another order, then one more series: the host keeps the first, refuses
 * the repeat as it arrives (SM_ERR_INVALID, ABI 1.2) and keeps the last. A
 * second family reports the status each emit_sample returned, so a test
 * can see them. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  static const char* const kWhich[3] = {"first", "repeat", "other"};
  sm_label ab[2] = {{"a", "1"}, {"b", "2"}};
  sm_label ba[2] = {{"b", "2"}, {"a", "1"}};
  sm_label other[2] = {{"a", "1"}, {"b", "3"}};
  const sm_label* labels[3];
  sm_status status[3];
  sm_family f;
  sm_sample s;
  sm_label which[1];
  int i;
  (void)instance;
  (void)err;
  (void)err_len;
  labels[0] = ab;
  labels[1] = ba;
  labels[2] = other;
  test_init(&f, &s);
  f.name = "sysmetrics_repeats_series_value";
  f.help = "One series emitted twice.";
  f.type = SM_METRIC_GAUGE;
  if (test_api->begin_family(em, &f) != SM_OK) return SM_ERR;
  s.n_labels = 2;
  for (i = 0; i < 3; ++i) {
    s.labels = labels[i];
    s.value = i + 1;
    status[i] = test_api->emit_sample(em, &s);
  }
  f.name = "sysmetrics_repeats_series_status";
  f.help = "The status each emit_sample returned.";
  if (test_api->begin_family(em, &f) != SM_OK) return SM_ERR;
  s.labels = which;
  s.n_labels = 1;
  which[0].name = "sample";
  for (i = 0; i < 3; ++i) {
    which[0].value = kWhich[i];
    s.value = status[i];
    test_api->emit_sample(em, &s);
  }
  return SM_OK;
}

TEST_PLUGIN("repeats_series", NULL, 0, test_create, collect, NULL)
