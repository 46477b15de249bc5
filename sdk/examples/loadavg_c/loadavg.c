/* loadavg.so: system load averages from <procfs>/loadavg, a sysmetrics
 * plugin in plain C99 against the SDK header alone.
 *
 * /proc/loadavg (proc(5)): "0.52 0.58 0.59 2/1234 56789": the 1, 5 and 15
 * minute load averages, runnable/total scheduling entities, last PID.
 *
 * Build with pkg-config:
 *   cc -std=c99 -O2 -fvisibility=hidden -shared -fPIC \
 *      $(pkg-config --cflags sysmetrics-sdk) \
 *      -o loadavg.so loadavg.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysmetrics/plugin.h>

/* Options: the schema the host validates [collectors.loadavg] against. */
static const sm_option kOptions[] = {
    {.struct_size = sizeof(sm_option),
     .key = "processes",
     .type = SM_OPT_BOOL,
     .help = "Also export runnable and total scheduling entities.",
     .default_int = 1},
};

typedef struct loadavg {
  const sm_host_api* api;
  sm_host* host;
  char path[4096];
  int processes;
} loadavg;

static void set_error(char* err, size_t err_len, const char* msg) {
  if (err_len == 0) return;
  strncpy(err, msg, err_len - 1);
  err[err_len - 1] = '\0';
}

static sm_status loadavg_create(sm_host* host, const sm_host_api* api,
                                void** instance, char* err, size_t err_len) {
  loadavg* self = calloc(1, sizeof *self);
  if (self == NULL) {
    set_error(err, err_len, "out of memory");
    return SM_ERR;
  }
  self->api = api;
  self->host = host;
  if (api->config_bool(host, "processes", &self->processes) != SM_OK) {
    free(self);
    set_error(err, err_len, "option 'processes' missing from the schema");
    return SM_ERR_CONFIG;
  }
  /* Never hard-code /proc: the host says where procfs is (tests use a
   * fixture tree). */
  snprintf(self->path, sizeof self->path, "%s/loadavg", api->procfs_root(host));
  *instance = self;
  return SM_OK;
}

static sm_status gauge(loadavg* self, sm_emitter* em, const char* name,
                       const char* help, double value) {
  sm_family family = {sizeof(sm_family), name, help, SM_METRIC_GAUGE, NULL};
  sm_sample sample = {sizeof(sm_sample), NULL, NULL, 0, value};
  sm_status st = self->api->begin_family(em, &family);
  return st == SM_OK ? self->api->emit_sample(em, &sample) : st;
}

static sm_status loadavg_collect(void* instance, sm_emitter* em, char* err,
                                 size_t err_len) {
  loadavg* self = instance;
  char buf[256];
  double l1, l5, l15;
  unsigned long runnable, total;
  char msg[4200];
  size_t n;
  FILE* f = fopen(self->path, "re");
  if (f == NULL) {
    snprintf(msg, sizeof msg, "%s: %s", self->path, strerror(errno));
    set_error(err, err_len, msg);
    return SM_ERR_IO;
  }
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  if (sscanf(buf, "%lf %lf %lf %lu/%lu", &l1, &l5, &l15, &runnable, &total) !=
      5) {
    snprintf(msg, sizeof msg, "%s:1: want \"L1 L5 L15 R/T PID\"", self->path);
    set_error(err, err_len, msg);
    return SM_ERR_PARSE;
  }
  /* A plugin owns the names under its own: sysmetrics_loadavg and
   * sysmetrics_loadavg_*. The exporter refuses any other. */
  gauge(self, em, "sysmetrics_loadavg_load1", "1-minute load average.", l1);
  gauge(self, em, "sysmetrics_loadavg_load5", "5-minute load average.", l5);
  gauge(self, em, "sysmetrics_loadavg_load15", "15-minute load average.", l15);
  if (self->processes) {
    gauge(self, em, "sysmetrics_loadavg_sched_entities_runnable",
          "Runnable scheduling entities (processes and threads).",
          (double)runnable);
    gauge(self, em, "sysmetrics_loadavg_sched_entities",
          "Scheduling entities (processes and threads) in existence.",
          (double)total);
  }
  return SM_OK;
}

static void loadavg_destroy(void* instance) { free(instance); }

const sm_plugin* sysmetrics_plugin_entry(uint32_t host_abi_major,
                                         uint32_t host_abi_minor) {
  /* Designated initializers: a later 1.x header that appends members to
   * sm_plugin keeps this compiling without warnings. */
  static const sm_plugin plugin = {
      .struct_size = sizeof(sm_plugin),
      .abi_major = SM_ABI_VERSION_MAJOR,
      .abi_minor = SM_ABI_VERSION_MINOR,
      .name = "loadavg",
      .version = "1.0.0",
      .description = "System load averages from /proc/loadavg.",
      .options = kOptions,
      .n_options = sizeof kOptions / sizeof kOptions[0],
      .create = loadavg_create,
      .collect = loadavg_collect,
      .destroy = loadavg_destroy,
      /* collect() only reads /proc/loadavg: it never blocks. */
      .flags = SM_PLUGIN_NONBLOCKING,
  };
  (void)host_abi_major;
  (void)host_abi_minor;
  return &plugin;
}
