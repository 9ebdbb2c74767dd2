// Subcommands of the `chorus` CLI. Each takes the arguments after its name and returns the
// process exit code.
#pragma once

#include <string>
#include <vector>

namespace chorus::cli {

int run_demo(const std::vector<std::string>& args);
int run_lm(const std::vector<std::string>& args);
int run_plugins(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);

}  // namespace chorus::cli
