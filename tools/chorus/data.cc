// `chorus data`: manifest checking and data set preparation.
#include <iostream>

#include "tools/chorus/commands.h"

namespace chorus::cli {

int run_data(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (sub == "check") return run_data_check(rest);
  if (sub == "prepare-fmnist") return run_data_prepare_fmnist(rest);
  if (sub == "bench") return run_data_bench(rest);
  std::cerr << "usage: chorus data check MANIFEST... [options]   (--help for options)\n"
               "       chorus data prepare-fmnist [--out DIR] [--quick | --sample] (data/prepare "
               "wraps it)\n"
               "       chorus data bench MANIFEST [--workers 2] [--batch 256] ...\n";
  return sub == "--help" || sub == "-h" ? 0 : 2;
}

}  // namespace chorus::cli
