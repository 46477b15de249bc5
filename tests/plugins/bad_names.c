/* Emits invalid names, bad UTF-8 and duplicates: each refused or repaired. */
#include "test_plugin.h"

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  sm_family f;
  sm_sample s;
  sm_label bad_label[1] = {{"__x", "v"}};
  sm_label not_utf8[1] = {{"value", "ab\xff"}};
  sm_label dup[1] = {{"k", "same"}};
  (void)instance;
  (void)err;
  (void)err_len;
  test_init(&f, &s);
  f.type = SM_METRIC_GAUGE;

  f.name = "bad-name";
  f.help = "Invalid name.";
  test_api->begin_family(em, &f);
  s.value = 1;
  test_api->emit_sample(em, &s); /* no current family: refused */

  f.name = "sysmetrics_bad_names_ok";
  f.help = "Help with a\nnewline and a \\ backslash.";
  test_api->begin_family(em, &f);
  s.labels = bad_label;
  s.n_labels = 1;
  test_api->emit_sample(em, &s); /* reserved label name: refused */
  s.labels = not_utf8;
  s.value = 2;
  test_api->emit_sample(em, &s); /* repaired to U+FFFD */
  s.labels = dup;
  s.value = 3;
  test_api->emit_sample(em, &s);
  s.value = 4;
  test_api->emit_sample(em, &s); /* duplicate series: dropped */

  /* A family of an unknown type is refused, and its sample must not land in
   * the family before it. */
  f.name = "sysmetrics_bad_names_type";
  f.type = (sm_metric_type)99;
  test_api->begin_family(em, &f);
  s.labels = NULL;
  s.n_labels = 0;
  s.value = 5;
  test_api->emit_sample(em, &s);

  f.name = "sysmetrics_bad_names_ok";
  f.type = SM_METRIC_GAUGE;
  test_api->begin_family(em, &f); /* emitted twice: refused */
  return SM_OK;
}

TEST_PLUGIN("bad_names", NULL, 0, test_create, collect, NULL)
