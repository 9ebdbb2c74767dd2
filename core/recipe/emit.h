// Recipe tree -> YAML text (`chorus recipe print`, recipe.resolved.yaml in run directories).
// Reading the text back gives the same tree: quoted scalars stay quoted, lists of scalars are
// written inline ([image, text]) so the printout reads like a hand-written recipe.
#pragma once

#include <string>

#include "core/recipe/node.h"

namespace chorus::recipe {

std::string to_yaml(const Node& root);

}  // namespace chorus::recipe
