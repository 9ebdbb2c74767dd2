// `chorus recipe check|print|schema`: look at a recipe without training.
#include "core/recipe/recipe.h"

#include <iostream>
#include <string>
#include <vector>

#include "core/recipe/emit.h"
#include "core/recipe/hooks.h"
#include "core/recipe/schema.h"
#include "tools/chorus/commands.h"

namespace chorus::cli {
namespace {

void usage(std::ostream& out) {
  out << "usage:\n"
         "  chorus recipe check FILE [OVERRIDES...] [--no-file-checks]\n"
         "      validate a recipe (schema, files, plugins) and build every component; prints\n"
         "      a summary, or every problem with file:line (exit code 1)\n"
         "  chorus recipe print FILE [OVERRIDES...] [--resolve]\n"
         "      the recipe after defaults: and overrides; --resolve: also interpolated,\n"
         "      validated, with defaults filled in and paths absolute\n"
         "  chorus recipe schema [--markdown]\n"
         "      every recipe key with its type, default and meaning\n\n"
         "overrides: key.path=value (set), +key.path=value (add), ~key.path (remove);\n"
         "values are YAML: stages.0.steps=100  data.manifests=[a.jsonl,b.jsonl]\n";
}

struct Args {
  std::string file;
  std::vector<std::string> overrides;
  bool resolve = false, markdown = false, no_file_checks = false;
};

bool parse(const std::vector<std::string>& args, Args& out) {
  for (const std::string& a : args) {
    if (a == "--resolve") {
      out.resolve = true;
    } else if (a == "--markdown") {
      out.markdown = true;
    } else if (a == "--no-file-checks") {
      out.no_file_checks = true;
    } else if (a.rfind("--", 0) == 0) {
      std::cerr << "chorus recipe: unknown flag '" << a << "'\n";
      return false;
    } else if (out.file.empty() && a.find('=') == std::string::npos && a[0] != '~' && a[0] != '+') {
      out.file = a;
    } else {
      out.overrides.push_back(a);
    }
  }
  return true;
}

std::string pairs_str(const std::vector<recipe::ModalityPair>& pairs) {
  std::string out;
  for (const auto& [a, b] : pairs) out += (out.empty() ? "" : ", ") + a + "-" + b;
  return out;
}

void summary(const recipe::Recipe& r, bool instantiated) {
  const recipe::RecipeConfig& c = r.config;
  std::cout << "OK: " << r.file << "\n";
  std::cout << "  run:        " << c.run.name << ", seed " << c.run.seed
            << (c.run.seed_generated ? " (generated)" : "") << ", device " << c.run.device
            << ", output " << c.run.output_root << "\n";
  std::cout << "  model:      shared width " << c.model.shared_width << ", core "
            << c.model.core.layers << " layers, "
            << (c.model.core.ffn == recipe::FfnKind::kMoe
                    ? std::to_string(c.model.core.experts) + " experts top-" +
                          std::to_string(c.model.core.top_k)
                    : std::string("dense"))
            << "\n  modalities: ";
  for (size_t i = 0; i < c.modalities.size(); ++i) {
    std::cout << (i ? ", " : "") << c.modalities[i].name << " (plugin " << c.modalities[i].plugin
              << ")";
  }
  std::cout << "\n  data:       " << c.data.manifests.size() << " manifest(s), batch "
            << c.data.batch_size << "\n";
  for (const recipe::StageConfig& s : c.stages) {
    std::cout << "  stage:      " << s.name << ": ";
    if (s.steps) {
      std::cout << *s.steps << " steps";
    } else {
      std::cout << *s.epochs << " epochs";
    }
    std::cout << ", lr " << s.optimizer.lr;
    if (s.kind == recipe::StageKind::kTask) {
      std::cout << ", task " << s.task.value_or("?") << "\n";
    } else {
      std::cout << ", pairs " << pairs_str(s.pairs) << "\n";
    }
  }
  std::cout << "  plugins:    "
            << (r.plugins_checked ? "names and options checked" : "not checked (no plugin host)")
            << "\n  components: " << (instantiated ? "instantiated" : "not instantiated (no hook)")
            << "\n";
}

int check(const Args& a) {
  recipe::LoadOptions options;
  options.overrides = a.overrides;
  options.plugins = recipe::recipe_hooks().plugins;
  options.check_files = !a.no_file_checks;
  auto loaded = recipe::load_recipe(a.file, options);
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return 1;
  }
  const auto& instantiate = recipe::recipe_hooks().instantiate;
  if (instantiate) {
    const absl::Status status = instantiate(*loaded);
    if (!status.ok()) {
      std::cerr << a.file << ": building the recipe's components failed: " << status.message()
                << "\n";
      return 1;
    }
  }
  summary(*loaded, static_cast<bool>(instantiate));
  return 0;
}

int print(const Args& a) {
  if (!a.resolve) {
    auto raw = recipe::compose_recipe(a.file, a.overrides);
    if (!raw.ok()) {
      std::cerr << raw.status().message() << "\n";
      return 1;
    }
    std::cout << recipe::to_yaml(*raw);
    return 0;
  }
  recipe::LoadOptions options;
  options.overrides = a.overrides;
  options.plugins = recipe::recipe_hooks().plugins;
  auto loaded = recipe::load_recipe(a.file, options);
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return 1;
  }
  std::cout << loaded->resolved_yaml();
  return 0;
}

}  // namespace

int run_recipe(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  Args a;
  if (!parse({args.begin() + 1, args.end()}, a)) return 2;
  if (args[0] == "schema") {
    const auto& schema = recipe::engine_schema();
    std::cout << (a.markdown ? recipe::schema_markdown(schema) : recipe::schema_text(schema));
    return 0;
  }
  if (args[0] != "check" && args[0] != "print") {
    std::cerr << "chorus recipe: unknown subcommand '" << args[0] << "'\n";
    usage(std::cerr);
    return 2;
  }
  if (a.file.empty()) {
    std::cerr << "chorus recipe " << args[0] << ": no recipe file given\n";
    usage(std::cerr);
    return 2;
  }
  return args[0] == "check" ? check(a) : print(a);
}

}  // namespace chorus::cli
