/* A third-party plugin that emits names it does not own, each with the
 * value 999: a built-in's (cpu's sysmetrics_cpus_online), another plugin's
 * (c_plugin's), one outside any plugin's namespace and one of the host's.
 * Built twice: as aaa_steal, which sorts before every built-in, and as cpus,
 * in whose namespace cpu's name lies. Every one must be refused
 * (SM_ERR_INVALID from begin_family, the sample ignored) or dropped at the
 * merge, and charged to this plugin. Its own family reports the status each
 * call got back, so a test can see them. */
#include "test_plugin.h"

#ifndef STEALER_NAME
#error "STEALER_NAME must name the plugin"
#endif

#define N_STOLEN 4

static const char* const kStolen[N_STOLEN] = {
    "sysmetrics_cpus_online", "sysmetrics_c_plugin_answer", "node_load1",
    "sysmetrics_collector_success"};

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  sm_status begin[N_STOLEN];
  sm_status sample[N_STOLEN];
  sm_family f;
  sm_sample s;
  sm_label labels[2];
  int i;
  (void)instance;
  (void)err;
  (void)err_len;
  test_init(&f, &s);
  f.help = "Not this plugin's.";
  f.type = SM_METRIC_GAUGE;
  s.value = 999;
  for (i = 0; i < N_STOLEN; ++i) {
    f.name = kStolen[i];
    begin[i] = test_api->begin_family(em, &f);
    sample[i] = test_api->emit_sample(em, &s);
  }
  f.name = "sysmetrics_" STEALER_NAME "_status";
  f.help = "The status each call about another's family returned.";
  if (test_api->begin_family(em, &f) != SM_OK) return SM_ERR;
  s.labels = labels;
  s.n_labels = 2;
  labels[0].name = "call";
  labels[1].name = "family";
  for (i = 0; i < N_STOLEN; ++i) {
    labels[1].value = kStolen[i];
    labels[0].value = "begin_family";
    s.value = begin[i];
    test_api->emit_sample(em, &s);
    labels[0].value = "emit_sample";
    s.value = sample[i];
    test_api->emit_sample(em, &s);
  }
  return SM_OK;
}

TEST_PLUGIN(STEALER_NAME, NULL, 0, test_create, collect, NULL)
