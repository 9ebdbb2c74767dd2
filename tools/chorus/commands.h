// Subcommands of the `chorus` CLI. Each takes the arguments after its name and returns the
// process exit code.
#pragma once

#include <string>
#include <vector>

namespace chorus::cli {

int run_demo(const std::vector<std::string>& args);
int run_lm(const std::vector<std::string>& args);
int run_train(const std::vector<std::string>& args);
int run_eval(const std::vector<std::string>& args);
int run_embed(const std::vector<std::string>& args);
int run_recipe(const std::vector<std::string>& args);
int run_plugins(const std::vector<std::string>& args);
int run_data(const std::vector<std::string>& args);
int run_data_check(const std::vector<std::string>& args);
int run_data_prepare_fmnist(const std::vector<std::string>& args);
int run_tokenizer(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_data_bench(const std::vector<std::string>& args);

}  // namespace chorus::cli
