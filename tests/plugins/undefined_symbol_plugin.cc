// A plugin that needs a symbol nobody defines: the dynamic loader refuses it (RTLD_NOW), and
// the host must pass the loader's message on.
#include "chorus/plugin.h"

extern "C" int chorus_test_symbol_nobody_defines();

namespace {
const chorus::plugin::Descriptor* Describe() {
  static chorus::plugin::Descriptor d;
  d.name = chorus_test_symbol_nobody_defines() ? "undefined" : "never";
  return &d;
}
}  // namespace

CHORUS_PLUGIN(Describe)
