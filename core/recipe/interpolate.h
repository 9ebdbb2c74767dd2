// `${...}` interpolation in recipe values.
//
//   ${data.root}         the value at that key path (any node; a value that is exactly one
//                        reference takes the referenced node whole, lists and mappings included)
//   ${stages.0.name}     list indices as in overrides
//   ${env:HOME}          an environment variable; an error when unset...
//   ${env:RUNS,runs}     ...unless a default follows the comma
//   \${literal}          a backslash keeps a literal "${"
//
// References are resolved recursively (a referenced value may itself interpolate) and a cycle
// is an error that shows it. A reference inside a longer string must name a scalar.
#pragma once

#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"

namespace chorus::recipe {

void interpolate(Node& root, Diagnostics& diags);

}  // namespace chorus::recipe
