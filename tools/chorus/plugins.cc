// `chorus plugins`: what plugins the engine can see, and what each accepts.
//   chorus plugins list [--json] [--path P]...   every plugin found, every file rejected and why
//   chorus plugins info NAME [--json]             description and option schema
//   chorus plugins new NAME [--dir D]             a new plugin folder from the template
//   chorus plugins try NAME FILE... [--option k=v] [--width D]   decode + encode, print shapes
#include <algorithm>
#include <iomanip>
#include <iostream>

#include "core/plugin/options.h"
#include "core/plugin/registry.h"
#include "tools/chorus/commands.h"
#include "tools/chorus/plugins_args.h"

namespace chorus::cli {
namespace {

void print_usage() {
  std::cout << "usage: chorus plugins <list|info|new|try> ...\n"
               "  list [--json] [--path P]...            every plugin found (name, version,\n"
               "                                         modality, path) and every rejected file\n"
               "  info NAME [--json] [--path P]...       description and option schema\n"
               "  new NAME [--dir D]                     scaffold a plugin from the template\n"
               "  try NAME FILE... [--option KEY=VALUE]... [--width D] [--path P]...\n"
               "                                         decode FILEs, encode them, print shapes\n"
               "Plugins are searched in --path locations, CHORUS_PLUGIN_PATH (colon-separated),\n"
               "<chorus>/../lib/chorus/plugins and the install prefix, in that order.\n";
}

int list(const PluginArgs& args) {
  plugin::Registry registry;
  registry.Discover(args.paths);
  if (args.json) {
    std::cout << registry.ToJson().dump(2) << "\n";
    return 0;
  }
  std::cout << "plugins (" << registry.plugins().size() << "):\n";
  for (const auto& p : registry.plugins()) {
    const plugin::PluginInfo& info = p->info();
    std::cout << "  " << std::left << std::setw(14) << info.name << " " << std::setw(8)
              << info.version << " " << std::setw(6) << plugin::modality_name(info.modality) << " "
              << info.path << "\n";
  }
  if (!registry.rejected().empty()) {
    std::cout << "rejected (" << registry.rejected().size() << "):\n";
    for (const auto& r : registry.rejected()) {
      std::cout << "  " << r.path << "\n    " << r.reason << "\n";
    }
  }
  std::cout << "searched:\n";
  for (const auto& s : registry.searched()) {
    std::cout << "  " << s.path << " (" << s.source << ")\n";
  }
  return 0;
}

int info(const PluginArgs& args) {
  if (args.positional.size() != 1) {
    std::cerr << "chorus plugins info: expected one plugin name\n";
    return 2;
  }
  plugin::Registry registry;
  registry.Discover(args.paths);
  auto found = registry.Find(args.positional[0]);
  if (!found.ok()) {
    std::cerr << "chorus plugins info: " << found.status().message() << "\n";
    return 1;
  }
  const plugin::Plugin& p = **found;
  if (args.json) {
    nlohmann::json j = plugin::PluginInfoToJson(p.info());
    j["options"] = nlohmann::json::array();
    for (const auto& spec : p.option_schema())
      j["options"].push_back(plugin::OptionSpecToJson(spec));
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  const plugin::PluginInfo& i = p.info();
  std::cout << i.name << " " << i.version << " (" << plugin::modality_name(i.modality)
            << ", manifest values are "
            << (i.manifest_value == plugin::ManifestValue::kPath ? "file paths" : "inline")
            << ", ABI " << i.abi_major << "." << i.abi_minor << ")\n"
            << "  " << i.description << "\n  " << i.path << "\n\noptions:\n";
  if (p.option_schema().empty()) std::cout << "  (none)\n";
  for (const auto& spec : p.option_schema()) {
    std::cout << "  " << spec.name << " (" << plugin::OptionTypeName(spec.type) << ", "
              << (spec.default_value.is_null() ? std::string("required")
                                               : "default " + spec.default_value.dump())
              << ")\n      " << spec.doc;
    const std::string constraint = plugin::DescribeConstraint(spec);
    if (!constraint.empty()) std::cout << "; " << constraint;
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

PluginArgs ParsePluginArgs(const std::vector<std::string>& args,
                           const std::vector<std::string>& value_flags) {
  PluginArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool takes_value =
        a == "--path" || a == "--option" ||
        std::find(value_flags.begin(), value_flags.end(), a) != value_flags.end();
    if (a == "--json") {
      out.json = true;
    } else if (takes_value) {
      if (i + 1 >= args.size()) {
        out.error = a + " needs a value";
        return out;
      }
      const std::string& v = args[++i];
      if (a == "--path") {
        out.paths.push_back(v);
      } else if (a == "--option") {
        const size_t eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
          out.error = "--option expects KEY=VALUE, got '" + v + "'";
          return out;
        }
        out.options[v.substr(0, eq)] = v.substr(eq + 1);
      } else {
        out.values[a] = v;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      out.error = "unknown flag '" + a + "'";
      return out;
    } else {
      out.positional.push_back(a);
    }
  }
  return out;
}

int run_plugins(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    print_usage();
    return args.empty() ? 2 : 0;
  }
  const std::string sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const PluginArgs parsed = ParsePluginArgs(rest, {"--dir", "--width", "--seed"});
  if (!parsed.error.empty()) {
    std::cerr << "chorus plugins " << sub << ": " << parsed.error << "\n";
    return 2;
  }
  if (sub == "list") return list(parsed);
  if (sub == "info") return info(parsed);
  if (sub == "new") return run_plugins_new(parsed);
  if (sub == "try") return run_plugins_try(parsed);
  std::cerr << "chorus plugins: unknown subcommand '" << sub << "'\n";
  print_usage();
  return 2;
}

}  // namespace chorus::cli
