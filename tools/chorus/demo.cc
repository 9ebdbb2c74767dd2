// `chorus demo`: placeholder until the MLP demo lands in this same commit series.
#include <iostream>

#include "tools/chorus/commands.h"

namespace chorus::cli {

int run_demo(const std::vector<std::string>& args) {
  std::cerr << "chorus demo: not built yet\n";
  return 1;
}

}  // namespace chorus::cli
