// Checks that span keys, run after schema validation: unique stage names, steps xor epochs,
// modality names used in pairs, anchors, task weights and eval exist, MoE top_k <= experts, and
// a stage without `losses` gets its own kind's loss (with defaults).
#pragma once

#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"
#include "core/recipe/validate.h"

namespace chorus::recipe {

void cross_check(Node& root, const ValidateOptions& options, Diagnostics& diags);

}  // namespace chorus::recipe
