// The `chorus` command line: one binary, one subcommand per user task.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

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
         "  plugins <list|info|new|try> ...  modality plugins: found/rejected, options, scaffold\n"
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
  try {
    if (command == "demo") return chorus::cli::run_demo(args);
    if (command == "lm") return chorus::cli::run_lm(args);
    if (command == "plugins") return chorus::cli::run_plugins(args);
    if (command == "report") return chorus::cli::run_report(args);
  } catch (const std::exception& e) {
    std::cerr << "chorus " << command << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "chorus: unknown command '" << command << "'\n";
  print_usage();
  return 2;
}
