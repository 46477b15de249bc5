/* A shared object without sysmetrics_plugin_entry: refused by name. */
__attribute__((visibility("default"))) int not_a_plugin(void) { return 42; }
