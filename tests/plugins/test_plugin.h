/* Helpers shared by the test-only plugins; real plugins use plugin.h alone. */
#ifndef SYSMETRICS_TEST_PLUGIN_H
#define SYSMETRICS_TEST_PLUGIN_H

#include <stdio.h>
#include <string.h>
#include <sysmetrics/plugin.h>

/* Defines the entry function returning a current-ABI descriptor. */
#define TEST_PLUGIN(NAME, OPTIONS, N_OPTIONS, CREATE, COLLECT, DESTROY) \
  TEST_PLUGIN_WITH_FLAGS(NAME, OPTIONS, N_OPTIONS, CREATE, COLLECT, DESTROY, 0u)

/* The same with sm_plugin.flags. */
#define TEST_PLUGIN_WITH_FLAGS(NAME, OPTIONS, N_OPTIONS, CREATE, COLLECT, \
                               DESTROY, FLAGS)                            \
  const sm_plugin* sysmetrics_plugin_entry(uint32_t host_abi_major,       \
                                           uint32_t host_abi_minor) {     \
    static const sm_plugin plugin = {sizeof(sm_plugin),                   \
                                     SM_ABI_VERSION_MAJOR,                \
                                     SM_ABI_VERSION_MINOR,                \
                                     NAME,                                \
                                     "0.0.1",                             \
                                     "Test plugin.",                      \
                                     OPTIONS,                             \
                                     N_OPTIONS,                           \
                                     CREATE,                              \
                                     COLLECT,                             \
                                     DESTROY,                             \
                                     FLAGS};                              \
    (void)host_abi_major;                                                 \
    (void)host_abi_minor;                                                 \
    return &plugin;                                                       \
  }

static inline void test_set_error(char* err, size_t err_len, const char* msg) {
  if (err_len == 0) return;
  snprintf(err, err_len, "%s", msg);
}

/* The api table, kept by create for collect. A reload creates a second
 * instance of the same plugin (the same loaded library) while the first may
 * still be collecting, so these globals are written and read atomically;
 * a real plugin keeps them in its instance (see the SDK examples). */
static const sm_host_api* test_api_;
static sm_host* test_host_;
#define test_api (__atomic_load_n(&test_api_, __ATOMIC_ACQUIRE))
#define test_host (__atomic_load_n(&test_host_, __ATOMIC_ACQUIRE))

static inline sm_status test_create(sm_host* host, const sm_host_api* api,
                                    void** instance, char* err,
                                    size_t err_len) {
  (void)err;
  (void)err_len;
  __atomic_store_n(&test_api_, api, __ATOMIC_RELEASE);
  __atomic_store_n(&test_host_, host, __ATOMIC_RELEASE);
  *instance = NULL;
  return SM_OK;
}

/* A collect that emits nothing and succeeds. */
static inline sm_status test_noop_collect(void* instance, sm_emitter* em,
                                          char* err, size_t err_len) {
  (void)instance;
  (void)em;
  (void)err;
  (void)err_len;
  return SM_OK;
}

/* A family and a sample of the current ABI with their sizes set and every
 * other member zero. */
static inline void test_init(sm_family* f, sm_sample* s) {
  memset(f, 0, sizeof *f);
  memset(s, 0, sizeof *s);
  f->struct_size = sizeof *f;
  s->struct_size = sizeof *s;
}

static inline sm_status test_gauge(sm_emitter* em, const char* name, double v) {
  sm_family f;
  sm_sample s;
  test_init(&f, &s);
  f.name = name;
  f.help = "Test gauge.";
  f.type = SM_METRIC_GAUGE;
  s.value = v;
  if (test_api->begin_family(em, &f) != SM_OK) return SM_ERR_INVALID;
  return test_api->emit_sample(em, &s);
}

#endif
