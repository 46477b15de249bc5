/* A shared object without sysmetrics_plugin_entry: the host must refuse it. */
__attribute__((visibility("default"))) int not_a_plugin(void) { return 42; }
