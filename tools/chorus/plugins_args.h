// Argument parsing shared by the `chorus plugins` subcommands (list, info, new, try).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace chorus::cli {

// Flags every plugins subcommand understands, plus its positional arguments.
struct PluginArgs {
  std::vector<std::string> positional;
  std::vector<std::string> paths;              // --path P (repeatable): extra plugin locations
  std::map<std::string, std::string> options;  // --option key=value (repeatable)
  std::map<std::string, std::string> values;   // other --flag VALUE
  bool json = false;                           // --json
  std::string error;                           // non-empty when parsing failed
};

// `value_flags` are the flags that take a value besides --path and --option.
PluginArgs ParsePluginArgs(const std::vector<std::string>& args,
                           const std::vector<std::string>& value_flags);

int run_plugins_new(const PluginArgs& args);
int run_plugins_try(const PluginArgs& args);

}  // namespace chorus::cli
