// A shared library that is not a Chorus plugin: it exports a function, but no
// chorus_plugin_entry.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() { return 42; }
