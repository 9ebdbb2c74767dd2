// The `chorus` command line: one binary, one subcommand per user task.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "core/recipe/components.h"
#include "core/version.h"
#include "tools/chorus/commands.h"

namespace {

void print_version() {
  std::cout << "chorus " << chorus::kVersion << " (git " << chorus::kGitRevision << ")\n"
            << "build: " << chorus::kBuildType << ", " << chorus::kCompiler
            << ", cuda=" << (chorus::kWithCuda ? "on" : "off") << "\n";
}

void print_usage() {
  std::cout
      << "usage: chorus <command> [options]\n\n"
         "commands:\n"
         "  demo [--steps N] [--threads N]   train a small MLP on Fashion-MNIST (CPU) and\n"
         "                                   print its loss falling\n"
         "  lm [--ffn dense|moe] [...]        train a small causal language model on English\n"
         "                                   text (Debian's fortunes); --help for options\n"
         "  recipe check|print|schema ...     validate or print a recipe; --help for usage\n"
         "  train RECIPE [overrides]          run a recipe's stages; writes runs/<name>/<time>/\n"
         "  eval RUN|CHECKPOINT [--json]      evaluation metrics of a trained model\n"
         "  embed --checkpoint C --modality M FILES...   shared-space embeddings of inputs\n"
         "  plugins <list|info|new|try> ...  modality plugins: found/rejected, options, scaffold\n"
         "  data check|prepare-fmnist ...    check manifests; build the Fashion-MNIST set\n"
         "  tokenizer train|encode|decode     train the text plugin's BPE tokenizer; --help\n"
         "  report RUN_DIR [--out FILE]      rewrite a run's report.html from its directory\n"
         "  --version                        print version and build flags\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    print_version();
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  // `recipe check` validates plugin options and instantiates components the way `train` does.
  chorus::recipe::install_recipe_hooks();
  try {
    if (command == "train") return chorus::cli::run_train(args);
    if (command == "eval") return chorus::cli::run_eval(args);
    if (command == "embed") return chorus::cli::run_embed(args);
    if (command == "demo") return chorus::cli::run_demo(args);
    if (command == "lm") return chorus::cli::run_lm(args);
    if (command == "recipe") return chorus::cli::run_recipe(args);
    if (command == "plugins") return chorus::cli::run_plugins(args);
    if (command == "data") return chorus::cli::run_data(args);
    if (command == "tokenizer") return chorus::cli::run_tokenizer(args);
    if (command == "report") return chorus::cli::run_report(args);
  } catch (const std::exception& e) {
    std::cerr << "chorus " << command << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "chorus: unknown command '" << command << "'\n";
  print_usage();
  return 2;
}
