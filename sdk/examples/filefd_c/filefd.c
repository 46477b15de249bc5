/* filefd.so: system-wide file handle counts from <procfs>/sys/fs/file-nr,
 * a sysmetrics plugin in plain C99 against the SDK header alone.
 *
 * /proc/sys/fs/file-nr (Documentation/admin-guide/sysctl/fs.rst): three
 * numbers, "9024	0	9223372036854775807": file handles allocated,
 * allocated but unused (always 0 since Linux 2.6), and the maximum
 * (fs.file-max).
 *
 * Build with pkg-config:
 *   cc -std=c99 -O2 -fvisibility=hidden -shared -fPIC \
 *      $(pkg-config --cflags sysmetrics-sdk) \
 *      -o filefd.so filefd.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysmetrics/plugin.h>

/* Options: the schema the host validates [collectors.filefd] against. */
static const sm_option kOptions[] = {
    {.struct_size = sizeof(sm_option),
     .key = "maximum",
     .type = SM_OPT_BOOL,
     .help = "Also export the system-wide maximum (fs.file-max).",
     .default_int = 1},
};

typedef struct filefd {
  const sm_host_api* api;
  sm_host* host;
  char path[4096];
  int maximum;
} filefd;

static void set_error(char* err, size_t err_len, const char* msg) {
  if (err_len == 0) return;
  strncpy(err, msg, err_len - 1);
  err[err_len - 1] = '\0';
}

static sm_status filefd_create(sm_host* host, const sm_host_api* api,
                               void** instance, char* err, size_t err_len) {
  filefd* self = calloc(1, sizeof *self);
  if (self == NULL) {
    set_error(err, err_len, "out of memory");
    return SM_ERR;
  }
  self->api = api;
  self->host = host;
  if (api->config_bool(host, "maximum", &self->maximum) != SM_OK) {
    free(self);
    set_error(err, err_len, "option 'maximum' missing from the schema");
    return SM_ERR_CONFIG;
  }
  /* Never hard-code /proc: the host says where procfs is (tests use a
   * fixture tree). */
  snprintf(self->path, sizeof self->path, "%s/sys/fs/file-nr",
           api->procfs_root(host));
  *instance = self;
  return SM_OK;
}

static sm_status gauge(filefd* self, sm_emitter* em, const char* name,
                       const char* help, double value) {
  sm_family family = {sizeof(sm_family), name, help, SM_METRIC_GAUGE, NULL};
  sm_sample sample = {sizeof(sm_sample), NULL, NULL, 0, value};
  sm_status st = self->api->begin_family(em, &family);
  return st == SM_OK ? self->api->emit_sample(em, &sample) : st;
}

static sm_status filefd_collect(void* instance, sm_emitter* em, char* err,
                                size_t err_len) {
  filefd* self = instance;
  char buf[256];
  unsigned long long allocated, unused, maximum;
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
  /* %llu would take "-1" as a huge number: the first character of each
   * field is a digit in what the kernel prints, so refuse a sign. */
  if (strchr(buf, '-') != NULL ||
      sscanf(buf, "%llu %llu %llu", &allocated, &unused, &maximum) != 3) {
    snprintf(msg, sizeof msg, "%s:1: want \"ALLOCATED UNUSED MAXIMUM\"",
             self->path);
    set_error(err, err_len, msg);
    return SM_ERR_PARSE;
  }
  (void)unused; /* always 0 since Linux 2.6: not worth a metric */
  /* A plugin owns the names under its own: sysmetrics_filefd and
   * sysmetrics_filefd_*. The exporter refuses any other. */
  gauge(self, em, "sysmetrics_filefd_allocated",
        "File handles allocated system-wide.", (double)allocated);
  if (self->maximum) {
    gauge(self, em, "sysmetrics_filefd_maximum",
          "Maximum file handles system-wide (fs.file-max).", (double)maximum);
  }
  return SM_OK;
}

static void filefd_destroy(void* instance) { free(instance); }

const sm_plugin* sysmetrics_plugin_entry(uint32_t host_abi_major,
                                         uint32_t host_abi_minor) {
  /* Designated initializers: a later 1.x header that appends members to
   * sm_plugin keeps this compiling without warnings. */
  static const sm_plugin plugin = {
      .struct_size = sizeof(sm_plugin),
      .abi_major = SM_ABI_VERSION_MAJOR,
      .abi_minor = SM_ABI_VERSION_MINOR,
      .name = "filefd",
      .version = "1.0.0",
      .description = "File handle counts from /proc/sys/fs/file-nr.",
      .options = kOptions,
      .n_options = sizeof kOptions / sizeof kOptions[0],
      .create = filefd_create,
      .collect = filefd_collect,
      .destroy = filefd_destroy,
      /* collect() only reads /proc/sys/fs/file-nr: it never blocks. */
      .flags = SM_PLUGIN_NONBLOCKING,
  };
  (void)host_abi_major;
  (void)host_abi_minor;
  return &plugin;
}
