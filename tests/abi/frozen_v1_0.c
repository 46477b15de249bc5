/* Built against the frozen ABI 1.0 header (tests/abi/v1.0), never the
 * current one: it must keep loading and working in every 1.x host. Uses
 * every 1.0 host service once. */
#include <stdlib.h>
#include <string.h>
#include <sysmetrics/plugin.h>

static const char* const kList[] = {"x", NULL};
static const sm_option kOptions[] = {
    {sizeof(sm_option), "flag", SM_OPT_BOOL, "b", 1, 0.0, NULL, NULL},
    {sizeof(sm_option), "count", SM_OPT_INT, "i", 3, 0.0, NULL, NULL},
    {sizeof(sm_option), "ratio", SM_OPT_DOUBLE, "d", 0, 1.5, NULL, NULL},
    {sizeof(sm_option), "name", SM_OPT_STRING, "s", 0, 0.0, "n", NULL},
    {sizeof(sm_option), "list", SM_OPT_STRING_LIST, "l", 0, 0.0, NULL, kList},
};

typedef struct state {
  const sm_host_api* api;
  sm_host* host;
  double sum;
} state;

static sm_status create(sm_host* host, const sm_host_api* api, void** out,
                        char* err, size_t err_len) {
  state* s;
  int flag = 0;
  int64_t count = 0;
  double ratio = 0;
  const char* name = NULL;
  const char* item = NULL;
  size_t n = 0;
  if (api->abi_major != 1 || api->struct_size < sizeof(sm_host_api)) {
    strncpy(err, "host table smaller than ABI 1.0", err_len - 1);
    err[err_len - 1] = '\0';
    return SM_ERR;
  }
  api->config_bool(host, "flag", &flag);
  api->config_int(host, "count", &count);
  api->config_double(host, "ratio", &ratio);
  api->config_string(host, "name", &name);
  api->config_list_size(host, "list", &n);
  api->config_list_item(host, "list", 0, &item);
  s = calloc(1, sizeof *s);
  if (s == NULL) return SM_ERR;
  s->api = api;
  s->host = host;
  s->sum =
      flag + (double)count + ratio + (double)n +
      (name != NULL && item != NULL && strlen(api->procfs_root(host)) > 0 &&
               strlen(api->sysfs_root(host)) > 0
           ? 1
           : 0);
  api->log(host, SM_LOG_DEBUG, "frozen_v1_0 created");
  *out = s;
  return SM_OK;
}

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  state* s = instance;
  sm_family f;
  sm_sample sample;
  (void)err;
  (void)err_len;
  memset(&f, 0, sizeof f);
  memset(&sample, 0, sizeof sample);
  f.struct_size = sizeof f;
  f.name = "sysmetrics_frozen_v1_0_sum";
  f.help = "Sum of the option defaults seen through ABI 1.0.";
  f.type = SM_METRIC_GAUGE;
  sample.struct_size = sizeof sample;
  sample.value = s->sum;
  s->api->begin_family(em, &f);
  return s->api->emit_sample(em, &sample);
}

static void destroy(void* instance) { free(instance); }

const sm_plugin* sysmetrics_plugin_entry(uint32_t host_abi_major,
                                         uint32_t host_abi_minor) {
  static const sm_plugin plugin = {sizeof(sm_plugin),
                                   1,
                                   0,
                                   "frozen_v1_0",
                                   "1.0.0",
                                   "Built against the frozen ABI 1.0 header.",
                                   kOptions,
                                   sizeof kOptions / sizeof kOptions[0],
                                   create,
                                   collect,
                                   destroy};
  (void)host_abi_major;
  (void)host_abi_minor;
  return &plugin;
}
