/*
 * sysmetrics plugin ABI, version 1.
 *
 * A sysmetrics collector is a shared object that exports one C function,
 * sysmetrics_plugin_entry(), returning a static descriptor (sm_plugin). The
 * host (the sysmetrics binary) loads the object, checks the descriptor, creates
 * one instance of the collector with its configuration, and calls its collect
 * function once per scrape. Everything the plugin needs from the host (logging,
 * its configuration values, the filesystem roots, emitting metrics) arrives as
 * a table of function pointers (sm_host_api): a plugin links nothing from the
 * host and can be written in plain C99 against this header alone.
 *
 * Contracts of this interface:
 *
 *  1. Ownership. Nothing allocated on one side is freed on the other. Strings
 *     and arrays the plugin passes to the host (descriptor, options, families,
 *     samples, labels, messages) stay owned by the plugin; the host copies what
 *     it keeps before the call returns. Strings the host gives the plugin are
 *     owned by the host.
 *  2. Lifetimes. The descriptor returned by sysmetrics_plugin_entry() and all
 *     it points to (options, names) must stay valid until the object is
 *     unloaded: use static storage. The sm_host pointer and the sm_host_api
 *     table passed to create() stay valid until destroy() returns, and so do
 *     the strings returned by the config getters. The sm_emitter passed to
 *     collect() is valid only during that collect() call.
 *  3. Threading. create() and destroy() are never called concurrently with any
 *     other call on the same instance. collect() of one instance is never
 *     called concurrently with itself, but collect() of different plugins may
 *     run at the same time on different threads, and successive calls to one
 *     instance may come from different threads. Every host service may be
 *     called from any thread that is inside a call from the host. Several
 *     instances of one plugin can exist at once: a reload creates the new
 *     instance before it destroys the old, and that create() may run while
 *     the old instance's collect() does. Keep mutable state in the instance,
 *     not in globals.
 *  4. Errors. Functions return SM_OK or another sm_status. A failing create()
 *     or collect() may write a NUL-terminated, human-readable reason into the
 *     err buffer it was given (at most err_len bytes including the NUL;
 *     truncation is fine); the host logs it with the plugin's name. Say where
 *     and what: "/proc/stat:3: cpu line has 7 fields, want at least 8". A
 *     failed collect() discards everything emitted during that call.
 *  5. No C++ crosses this boundary: no exceptions (a C++ plugin must catch
 *     everything at each entry point; sysmetrics/plugin.hpp does it for you),
 *     no C++ types, no longjmp across host frames.
 *  6. Versioning. Every struct that crosses starts with its size (struct_size)
 *     and only ever grows at the end; sm_label, frozen, is the exception. A
 *     reader checks struct_size before reading a member added in a later
 *     minor version (SM_HAS_MEMBER); a NULL function pointer or member means
 *     the feature is absent. A new minor version only appends members and
 *     enum values; anything else is a new major version, and the host
 *     refuses a plugin built for another major.
 *  7. Deadlines. The host may stop waiting for a collect() that takes too long
 *     and report it failed; it will not start that instance again until the
 *     call returns, and discards what the late call emits. Plugins should not
 *     block indefinitely. A plugin that sets SM_PLUGIN_NONBLOCKING (1.1)
 *     promises more: its collect() returns promptly on its own (it reads
 *     /proc or /sys and computes, or waits for threads of its own no longer
 *     than a short bound it enforces itself), so the host may call it on
 *     the thread serving the scrape, saving a hand-off per scrape, and then
 *     cannot abandon it at the deadline. Do not set the flag if collect()
 *     can wait on anything else.
 *  8. Odd input (1.2). A line of an input file that collect() cannot read
 *     costs that line only: skip it, report it with skip_line (file, 1-based
 *     line number, reason), export everything else and return SM_OK. Fail
 *     collect() only when the file cannot be read at all or nothing in it
 *     could be read (an empty file where the kernel always writes lines).
 *     Read the fields you know from a line that has more: kernel files grow
 *     at the end of their lines.
 */
#ifndef SYSMETRICS_PLUGIN_H
#define SYSMETRICS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define SM_ABI_VERSION_MAJOR 1
#define SM_ABI_VERSION_MINOR 3

/* Exported name of the entry function; the host looks up exactly this. */
#define SM_ENTRY_SYMBOL "sysmetrics_plugin_entry"

#if defined(__GNUC__)
#define SM_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SM_PLUGIN_EXPORT
#endif

/* True when a struct read through pointer p (with a struct_size member) was
 * built with member m, i.e. by a version that already had m. */
#define SM_HAS_MEMBER(p, type, m) \
  ((p)->struct_size >= offsetof(type, m) + sizeof(((type*)0)->m))

/* Result of every fallible call. Values never change meaning. */
typedef enum sm_status {
  SM_OK = 0,
  SM_ERR = 1,           /* generic failure; see the error text */
  SM_ERR_IO = 2,        /* a file could not be opened or read */
  SM_ERR_PARSE = 3,     /* a file had unexpected content */
  SM_ERR_CONFIG = 4,    /* an option value is unusable */
  SM_ERR_INVALID = 5,   /* an argument broke this header's rules */
  SM_ERR_NOT_FOUND = 6, /* no such option, or of another type */
  SM_ERR_LIMIT = 7      /* a host limit was reached (e.g. samples) */
} sm_status;

typedef enum sm_log_level {
  SM_LOG_DEBUG = 0,
  SM_LOG_INFO = 1,
  SM_LOG_WARN = 2,
  SM_LOG_ERROR = 3
} sm_log_level;

/* Prometheus metric types. A counter family's name ends in "_total". */
typedef enum sm_metric_type {
  SM_METRIC_COUNTER = 0,
  SM_METRIC_GAUGE = 1,
  SM_METRIC_UNTYPED = 2,
  SM_METRIC_HISTOGRAM = 3, /* samples carry suffix _bucket, _sum or _count */
  SM_METRIC_SUMMARY = 4    /* samples carry suffix "", _sum or _count */
} sm_metric_type;

/* Types of plugin options, as they appear in the TOML configuration. */
typedef enum sm_option_type {
  SM_OPT_BOOL = 0,
  SM_OPT_INT = 1,        /* 64-bit signed integer */
  SM_OPT_DOUBLE = 2,     /* TOML float; an integer literal is accepted too */
  SM_OPT_STRING = 3,     /* UTF-8 text */
  SM_OPT_STRING_LIST = 4 /* array of strings */
} sm_option_type;

/* One option in a plugin's schema. The host validates the plugin's table
 * [collectors.<name>] against the schema: an unknown key or a value of the
 * wrong type is a configuration error reported with file and line, and keys
 * the operator leaves out take the default given here. The key "enabled" is
 * reserved by the host. */
typedef struct sm_option {
  uint32_t struct_size; /* sizeof(sm_option) */
  const char* key;      /* [a-z][a-z0-9_]* */
  sm_option_type type;
  const char* help;      /* one line, shown in --help-plugins and docs */
  int64_t default_int;   /* default for SM_OPT_BOOL (0 or 1) and SM_OPT_INT */
  double default_double; /* default for SM_OPT_DOUBLE */
  const char* default_string;      /* SM_OPT_STRING; NULL means "" */
  const char* const* default_list; /* SM_OPT_STRING_LIST; NULL-terminated
                                      array, NULL means empty */
} sm_option;

/* A label pair. Names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with
 * "__"; values are any UTF-8 text (the host escapes them).
 *
 * Frozen: sm_label is the one struct that crosses without a struct_size
 * (an exception to contract 6). It is two pointers in every 1.x version and
 * never grows; arrays of it are indexed by the host with this size. A label
 * that needs more would be a new struct, reached through a new member of
 * sm_sample. */
typedef struct sm_label {
  const char* name;
  const char* value;
} sm_label;

/* A metric family: the HELP and TYPE shared by the samples that follow. */
typedef struct sm_family {
  uint32_t struct_size; /* sizeof(sm_family) */
  const char* name;     /* [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in _total */
  const char* help;     /* one line of UTF-8 text; the host escapes it */
  sm_metric_type type;
  const char* unit; /* OpenMetrics unit ("seconds", "bytes"); NULL for none.
                       If set, the name must end in "_<unit>" (before any
                       "_total"). */
} sm_family;

/* One sample of the family most recently begun. */
typedef struct sm_sample {
  uint32_t struct_size;   /* sizeof(sm_sample) */
  const char* suffix;     /* NULL for counters, gauges and untyped; for
                             histograms "_bucket", "_sum" or "_count", for
                             summaries NULL, "_sum" or "_count" */
  const sm_label* labels; /* may be NULL when n_labels is 0 */
  uint32_t n_labels;
  double value; /* NaN and infinities are allowed */
} sm_sample;

/* Opaque handles: the host's per-instance context, and the per-collect sink
 * that receives metrics. */
typedef struct sm_host sm_host;
typedef struct sm_emitter sm_emitter;
/* A regular expression the host compiled (1.3). */
typedef struct sm_regex sm_regex;

/* Services the host offers a plugin instance. All members of version 1.0 are
 * always set. */
typedef struct sm_host_api {
  uint32_t struct_size; /* sizeof(sm_host_api) as built into the host */
  uint32_t abi_major;   /* the host's SM_ABI_VERSION_MAJOR */
  uint32_t abi_minor;   /* the host's SM_ABI_VERSION_MINOR */

  /* Writes one log line attributed to this plugin. msg is any text; the host
   * escapes it for its log format. */
  void (*log)(sm_host* host, sm_log_level level, const char* msg);

  /* Typed reads of this instance's configuration. Each returns SM_OK and
   * stores the value, or SM_ERR_NOT_FOUND if the schema has no option of that
   * key and type. Every declared option has a value (the default when the
   * operator set none). Strings are NUL-terminated UTF-8 owned by the host,
   * valid until destroy() returns. */
  sm_status (*config_bool)(sm_host* host, const char* key, int* out);
  sm_status (*config_int)(sm_host* host, const char* key, int64_t* out);
  sm_status (*config_double)(sm_host* host, const char* key, double* out);
  sm_status (*config_string)(sm_host* host, const char* key, const char** out);
  sm_status (*config_list_size)(sm_host* host, const char* key, size_t* out);
  sm_status (*config_list_item)(sm_host* host, const char* key, size_t index,
                                const char** out);

  /* The configured roots of the proc and sys filesystems ("/proc", "/sys" in
   * production, a fixture tree in tests), without a trailing slash. Build
   * every path from these; never hard-code "/proc". */
  const char* (*procfs_root)(sm_host* host);
  const char* (*sysfs_root)(sm_host* host);

  /* Begins a metric family; the samples emitted after it belong to it until
   * the next begin_family. Returns SM_ERR_INVALID for a bad name, type, unit
   * or a family name this instance already emitted in this collect, and
   * (1.2) for a name this plugin does not own: a plugin NAME not shipped
   * with sysmetrics owns sysmetrics_NAME and sysmetrics_NAME_* only, less
   * the exporter's own names, the names a shipped plugin serves, and the
   * namespace of any enabled plugin whose name extends NAME ("NAME_x"):
   * the longest matching plugin name owns a family (the plugin guide,
   * "Who owns a name"). A refused family is ignored with its samples, a log
   * line says why, and it counts in
   * sysmetrics_collector_refused_families_total. */
  sm_status (*begin_family)(sm_emitter* em, const sm_family* family);

  /* Adds a sample to the current family. Returns SM_ERR_INVALID for a bad
   * label name, a wrong suffix, no current family (a refused one included),
   * or (1.2) a series the family already has: the same suffix and label
   * set, in any order, label values compared after UTF-8 repair (the first
   * is kept; a 1.1 host returned SM_OK and dropped it at the family's end).
   * The sample is then ignored. Returns SM_ERR_LIMIT once the instance's
   * sample limit is reached. */
  sm_status (*emit_sample)(sm_emitter* em, const sm_sample* sample);

  /* --- Added in 1.2 (read only if struct_size covers it) --------------- */

  /* Reports a line of an input file that collect() skipped because it could
   * not read it (contract 8). file is the path the plugin read, line is
   * 1-based, reason says what is wrong ("field 6 'x3' is not a number").
   * The host counts the line in sysmetrics_collector_skipped_lines_total
   * and logs it with file, line and reason, once per file and line number
   * for the life of the instance (a reload starts over). Call it only
   * during collect(), with the emitter of that call. */
  void (*skip_line)(sm_emitter* em, const char* file, uint64_t line,
                    const char* reason);

  /* --- Added in 1.3 (read only if struct_size covers it) --------------- */

  /* Regular expressions in the host's engine (ECMAScript syntax, the
   * grammar of C++'s std::regex), so that a plugin need not carry one of
   * its own. regex_compile returns a handle, or NULL for a pattern that
   * does not compile (or no memory), after writing why into err
   * (NUL-terminated, cut to err_size; err may be NULL). regex_search
   * returns 1 if the expression matches somewhere in the len bytes at
   * text, 0 if not, -1 if the engine gave up (a pattern too complex for
   * that text). A handle is immutable: searches may run on any thread at
   * once. regex_free releases it (NULL is ignored); free every handle
   * before destroy() returns. */
  sm_regex* (*regex_compile)(sm_host* host, const char* pattern, char* err,
                             size_t err_size);
  int (*regex_search)(const sm_regex* re, const char* text, size_t len);
  void (*regex_free)(sm_regex* re);
} sm_host_api;

/* The plugin descriptor, returned by the entry function. */
typedef struct sm_plugin {
  uint32_t struct_size;     /* sizeof(sm_plugin) */
  uint32_t abi_major;       /* SM_ABI_VERSION_MAJOR the plugin was built with */
  uint32_t abi_minor;       /* SM_ABI_VERSION_MINOR the plugin was built with */
  const char* name;         /* collector name, [a-z][a-z0-9_]*; must equal the
                               file name without ".so" */
  const char* version;      /* the plugin's own version, free text */
  const char* description;  /* one line */
  const sm_option* options; /* the option schema; may be NULL */
  uint32_t n_options;

  /* Creates an instance. On SM_OK, *instance is the plugin's own state (may
   * be NULL), passed back to collect() and destroy(). The config getters
   * should be read here. On failure, write the reason to err; destroy() is
   * then not called. */
  sm_status (*create)(sm_host* host, const sm_host_api* api, void** instance,
                      char* err, size_t err_len);

  /* Collects once: emits families and samples through api->begin_family and
   * api->emit_sample with the emitter given. Called once per scrape. */
  sm_status (*collect)(void* instance, sm_emitter* em, char* err,
                       size_t err_len);

  /* Releases the instance. May be NULL if there is nothing to release. */
  void (*destroy)(void* instance);

  /* --- Added in 1.1 (read only if struct_size covers it) --------------- */

  uint32_t flags; /* SM_PLUGIN_* bits; 0 for none */
} sm_plugin;

/* sm_plugin.flags: collect() never blocks (see contract 7). */
#define SM_PLUGIN_NONBLOCKING 0x1u

/* The one symbol a plugin exports. Returns the plugin's static descriptor;
 * the host arguments tell the plugin which ABI the host speaks, but the
 * plugin should return its descriptor regardless and let the host decide,
 * so that a mismatch is reported with both versions. Its signature and the
 * first three members of sm_plugin are frozen for all major versions. */
typedef const sm_plugin* (*sm_entry_fn)(uint32_t host_abi_major,
                                        uint32_t host_abi_minor);

/* The entry function's prototype. */
SM_PLUGIN_EXPORT const sm_plugin* sysmetrics_plugin_entry(
    uint32_t host_abi_major, uint32_t host_abi_minor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SYSMETRICS_PLUGIN_H */
