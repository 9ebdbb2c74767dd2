// Option handling shared by the shipped modality plugins.
//
// A plugin's decoder and encoder each read their own keys out of one options object (the
// descriptor has a single schema, the union of both). The host validates recipe options and
// fills defaults before calling a factory, but factories are also called directly (tests,
// tools), so each one resolves its options again here: unknown keys are left alone (they
// belong to the other half of the plugin), missing keys take the schema's default, and a
// value of the wrong type, outside its range or not among its choices is an error naming the
// option.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"

namespace chorus::modality {

// Returns a copy of `given` (a JSON object, or null for "no options") with every option of
// `schema` present: given values checked, absent ones set to their defaults. An option whose
// default is null is required. `what` prefixes error messages ("text encoder").
absl::StatusOr<plugin::Options> resolve_options(const plugin::OptionSchema& schema,
                                                const plugin::Options& given,
                                                const std::string& what);

// Concatenates schemas, keeping the first spec of a name that appears twice (the decoder and
// encoder of one modality may share an option such as n_mels).
plugin::OptionSchema merge_schemas(const plugin::OptionSchema& a, const plugin::OptionSchema& b);

}  // namespace chorus::modality
