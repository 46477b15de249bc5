/* A minimal plugin compiled outside the source tree against the SDK headers
 * alone: emits sysmetrics_hello_info 1. */
#include <string.h>
#include <sysmetrics/plugin.h>

static sm_status create(sm_host* host, const sm_host_api* api, void** instance,
                        char* err, size_t err_len) {
  (void)host;
  (void)err;
  (void)err_len;
  *instance = (void*)api;
  return SM_OK;
}

static sm_status collect(void* instance, sm_emitter* em, char* err,
                         size_t err_len) {
  const sm_host_api* api = instance;
  sm_family f;
  sm_sample s;
  (void)err;
  (void)err_len;
  memset(&f, 0, sizeof f);
  memset(&s, 0, sizeof s);
  f.struct_size = sizeof f;
  f.name = "sysmetrics_hello_info";
  f.help = "Always 1: the out-of-tree plugin works.";
  f.type = SM_METRIC_GAUGE;
  s.struct_size = sizeof s;
  s.value = 1;
  api->begin_family(em, &f);
  return api->emit_sample(em, &s);
}

const sm_plugin* sysmetrics_plugin_entry(uint32_t host_abi_major,
                                         uint32_t host_abi_minor) {
  static const sm_plugin plugin = {sizeof(sm_plugin),
                                   SM_ABI_VERSION_MAJOR,
                                   SM_ABI_VERSION_MINOR,
                                   "hello",
                                   "1.0.0",
                                   "Out-of-tree test plugin.",
                                   NULL,
                                   0,
                                   create,
                                   collect,
                                   NULL,
                                   0u};
  (void)host_abi_major;
  (void)host_abi_minor;
  return &plugin;
}
