// A plugin whose descriptor header is wrong in one way, chosen at compile time:
// TEST_ABI_MAJOR (another major), TEST_ABI_MINOR (a newer minor) or TEST_STRUCT_SIZE (too
// small). The host must reject it from the header alone; `touched` proves it read nothing else:
// every other field is a trap that would crash or fail a test if used.
#include "chorus/plugin.h"

namespace {

const chorus::plugin::Descriptor* Describe() {
  static const chorus::plugin::Descriptor descriptor = [] {
    chorus::plugin::Descriptor d;
#ifdef TEST_ABI_MAJOR
    d.abi_major = TEST_ABI_MAJOR;
#endif
#ifdef TEST_ABI_MINOR
    d.abi_minor = TEST_ABI_MINOR;
#endif
#ifdef TEST_STRUCT_SIZE
    d.struct_size = TEST_STRUCT_SIZE;
#endif
    d.name = "abi_test";
    d.option_schema = []() -> chorus::plugin::OptionSchema {
      throw std::runtime_error("option_schema must not be called on an ABI mismatch");
    };
    return d;
  }();
  return &descriptor;
}

}  // namespace

CHORUS_PLUGIN(Describe)
