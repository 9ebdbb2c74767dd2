#include "core/recipe/hooks.h"

namespace chorus::recipe {

RecipeHooks& recipe_hooks() {
  static RecipeHooks hooks;
  return hooks;
}

}  // namespace chorus::recipe
