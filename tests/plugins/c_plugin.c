/* A well-behaved plain C99 plugin: every option type, read in create. */
#include <stdlib.h>
#include <string.h>
#include <sysmetrics/plugin.h>

static const char* const kDefaultItems[] = {"a", "b", NULL};

static const sm_option kOptions[] = {
    {sizeof(sm_option), "answer", SM_OPT_INT, "An integer.", 42, 0.0, NULL,
     NULL},
    {sizeof(sm_option), "greeting", SM_OPT_STRING, "A string.", 0, 0.0, "hello",
     NULL},
    {sizeof(sm_option), "loud", SM_OPT_BOOL, "A boolean.", 0, 0.0, NULL, NULL},
    {sizeof(sm_option), "ratio", SM_OPT_DOUBLE, "A float.", 0, 0.5, NULL, NULL},
    {sizeof(sm_option), "items", SM_OPT_STRING_LIST, "A list.", 0, 0.0, NULL,
     kDefaultItems},
};

#define MAX_ITEMS 16

typedef struct state {
  const sm_host_api* api;
  int64_t answer;
  const char* greeting;
  int loud;
  double ratio;
  size_t n_items;
  const char* items[MAX_ITEMS];
  double collections;
} state;

static void set_error(char* err, size_t err_len, const char* msg) {
  if (err_len == 0) return;
  strncpy(err, msg, err_len - 1);
  err[err_len - 1] = '\0';
}

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  size_t i;
  state* s = calloc(1, sizeof *s);
  if (s == NULL) {
    set_error(err, err_len, "out of memory");
    return SM_ERR;
  }
  s->api = api;
  if (api->config_int(host, "answer", &s->answer) != SM_OK ||
      api->config_string(host, "greeting", &s->greeting) != SM_OK ||
      api->config_bool(host, "loud", &s->loud) != SM_OK ||
      api->config_double(host, "ratio", &s->ratio) != SM_OK ||
      api->config_list_size(host, "items", &s->n_items) != SM_OK ||
      api->config_int(host, "greeting", &s->answer) != SM_ERR_NOT_FOUND) {
    free(s);
    set_error(err, err_len, "config getters misbehave");
    return SM_ERR_CONFIG;
  }
  if (s->n_items > MAX_ITEMS) s->n_items = MAX_ITEMS;
  for (i = 0; i < s->n_items; ++i) {
    if (api->config_list_item(host, "items", i, &s->items[i]) != SM_OK) {
      free(s);
      set_error(err, err_len, "config_list_item failed");
      return SM_ERR_CONFIG;
    }
  }
  api->log(host, SM_LOG_INFO, "c_plugin created");
  *instance = s;
  return SM_OK;
}

static void emit(state* s, sm_emitter* em, const char* name, const char* help,
                 sm_metric_type type, const sm_label* labels, uint32_t n,
                 double value) {
  sm_sample sample;
  memset(&sample, 0, sizeof sample);
  sample.struct_size = sizeof sample;
  sample.labels = labels;
  sample.n_labels = n;
  sample.value = value;
  if (name != NULL) {
    sm_family family;
    memset(&family, 0, sizeof family);
    family.struct_size = sizeof family;
    family.name = name;
    family.help = help;
    family.type = type;
    s->api->begin_family(em, &family);
  }
  s->api->emit_sample(em, &sample);
}

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  state* s = instance;
  sm_label greeting[1];
  size_t i;
  (void)err;
  (void)err_len;
  s->collections += 1;
  greeting[0].name = "greeting";
  greeting[0].value = s->greeting;
  emit(s, em, "sysmetrics_c_plugin_answer", "The answer option.",
       SM_METRIC_GAUGE, greeting, 1, (double)s->answer);
  emit(s, em, "sysmetrics_c_plugin_ratio", "The ratio option.", SM_METRIC_GAUGE,
       NULL, 0, s->loud ? s->ratio * 10 : s->ratio);
  emit(s, em, "sysmetrics_c_plugin_collections_total", "Collect calls.",
       SM_METRIC_COUNTER, NULL, 0, s->collections);
  for (i = 0; i < s->n_items; ++i) {
    sm_label item[1];
    item[0].name = "item";
    item[0].value = s->items[i];
    emit(s, em, i == 0 ? "sysmetrics_c_plugin_items" : NULL,
         "One sample per item.", SM_METRIC_GAUGE, item, 1, (double)i);
  }
  return SM_OK;
}

static void destroy(void* instance) { free(instance); }

const sm_plugin* sysmetrics_plugin_entry(uint32_t host_abi_major,
                                         uint32_t host_abi_minor) {
  static const sm_plugin plugin = {
      sizeof(sm_plugin),
      SM_ABI_VERSION_MAJOR,
      SM_ABI_VERSION_MINOR,
      "c_plugin",
      "1.2.3",
      "A plain C test plugin.",
      kOptions,
      sizeof kOptions / sizeof kOptions[0],
      create,
      collect,
      destroy,
      0u,
  };
  (void)host_abi_major;
  (void)host_abi_minor;
  return &plugin;
}
