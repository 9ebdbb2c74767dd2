// Command-line overrides, applied after `defaults:` are merged and before interpolation:
//
//   stages.0.steps=100                 set a key that the recipe has or the schema declares
//   data.manifests=[a.jsonl, b.jsonl]  values are YAML (scalars, [flow lists], {flow maps})
//   +tasks.vqa.head=mlp                add a key the recipe does not have (an error if it does)
//   ~eval.linear_probe                 remove a key (an error if it is absent)
//
// Relative paths given on the command line resolve against the working directory. Every
// problem names the override it comes from; all of them are reported.
#pragma once

#include <string>
#include <vector>

#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"
#include "core/recipe/schema.h"

namespace chorus::recipe {

void apply_overrides(Node& root, const std::vector<std::string>& overrides, const Field& schema,
                     Diagnostics& diags);

}  // namespace chorus::recipe
