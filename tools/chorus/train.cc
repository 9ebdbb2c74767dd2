// `chorus train RECIPE [key=value | +key=value | ~key]... [--quiet]`: runs a recipe's stages and
// writes a run directory (core/recipe/stage_runner.h).
#include <cstdlib>
#include <iostream>

#include "core/recipe/components.h"
#include "core/recipe/recipe.h"
#include "core/recipe/stage_runner.h"
#include "core/tensor/emulated_device.h"
#include "tools/chorus/commands.h"

namespace chorus::cli {

namespace {

void train_usage(std::ostream& out) {
  out << "usage: chorus train RECIPE.yaml [overrides...] [--quiet] [--emulate-cuda]\n\n"
         "  overrides  a.b.c=value (set), +a.b=value (add), ~a.b (remove); e.g.\n"
         "             stages.0.steps=100 run.seed=7 resume=latest\n"
         "  --quiet    no terminal output (the run's log.txt still has everything)\n"
         "  --emulate-cuda\n"
         "             a CPU build only: cuda:N exists in host memory and runs the CPU kernels,\n"
         "             so run.device=cuda:0 checks the recipe's and plugins' device plumbing\n"
         "             without a GPU (results equal a CPU run's)\n\n"
         "Writes runs/<run.name>/<timestamp>/ with recipe.resolved.yaml, command.txt, log.txt,\n"
         "metrics.jsonl, checkpoints/, eval.json and report.html.\n";
}

}  // namespace

int run_train(const std::vector<std::string>& args) {
  std::string file;
  recipe::LoadOptions load;
  recipe::TrainOptions options;
  options.argv = {"chorus", "train"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      train_usage(std::cout);
      return 0;
    } else if (a == "--quiet") {
      options.quiet = true;
    } else if (a == "--emulate-cuda") {
      if (absl::Status s = emulate_cuda_on_host(); !s.ok()) {
        std::cerr << "chorus train: --emulate-cuda: " << s.message() << "\n";
        return 2;
      }
    } else if (a == "--kill-after-step" && i + 1 < args.size()) {
      // Crash-recovery tests: the process SIGKILLs itself after this step's checkpoint.
      options.kill_after_step = std::atoll(args[++i].c_str());
    } else if (file.empty() && a.find('=') == std::string::npos && a[0] != '~' && a[0] != '+') {
      file = a;
    } else {
      load.overrides.push_back(a);
    }
  }
  if (file.empty()) {
    train_usage(std::cerr);
    return 2;
  }
  load.plugins = recipe::registry_catalog_factory();
  auto loaded = recipe::load_recipe(file, load);
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return 1;
  }
  auto result = recipe::train_recipe(*loaded, options);
  if (!result.ok()) {
    std::cerr << "chorus train: " << result.status().message() << "\n";
    return 1;
  }
  std::cout << "run directory: " << result->run_dir << "\n";
  return 0;
}

}  // namespace chorus::cli
