// `chorus eval RUN_OR_CHECKPOINT [--json] [overrides...]`: the evaluation metrics of a trained
// model, recomputed from a run directory (its newest good checkpoint) or one checkpoint.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/recipe/components.h"
#include "core/recipe/evaluator.h"
#include "core/recipe/recipe.h"
#include "core/train/checkpoint.h"
#include "tools/chorus/commands.h"
#include "tools/chorus/run_location.h"

namespace chorus::cli {

namespace {

void print_flat(const nlohmann::json& j, const std::string& prefix) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) print_flat(v, prefix.empty() ? k : prefix + "." + k);
  } else if (j.is_number()) {
    std::cout << prefix << " " << j.dump() << "\n";
  }
}

// The final metrics a finished run wrote, without loading a model.
int print_saved(const std::string& run_dir, bool json) {
  const std::string path = run_dir + "/eval.json";
  std::ifstream in(path);
  if (!in) {
    std::cerr << "chorus eval: " << path << ": cannot open (has the run finished?)\n";
    return 1;
  }
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("final")) {
    std::cerr << "chorus eval: " << path << ": not an eval.json with a 'final' section\n";
    return 1;
  }
  if (json) {
    std::cout << j["final"].dump(2) << "\n";
  } else {
    std::cout << "metrics saved in " << path << "\n";
    print_flat(j["final"], "");
  }
  return 0;
}

}  // namespace

int run_eval(const std::vector<std::string>& args) {
  bool json = false, saved = false;
  std::string target;
  std::vector<std::string> overrides;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << "usage: chorus eval RUN_DIR|CHECKPOINT_DIR [--json] [--saved] [overrides...]\n"
                   "  overrides apply to the run's resolved recipe, e.g. eval.max_samples=1000\n"
                   "  --saved prints the metrics the run wrote (RUN_DIR/eval.json, 'final')\n"
                   "          instead of recomputing them\n";
      return 0;
    }
    if (a == "--json") {
      json = true;
    } else if (a == "--saved") {
      saved = true;
    } else if (target.empty()) {
      target = a;
    } else {
      overrides.push_back(a);
    }
  }
  if (target.empty()) {
    std::cerr << "usage: chorus eval RUN_DIR|CHECKPOINT_DIR [--json] [overrides...]\n";
    return 2;
  }
  auto located = locate_run(target);
  if (!located.ok()) {
    std::cerr << "chorus eval: " << located.status().message() << "\n";
    return 1;
  }
  if (saved) return print_saved(located->run_dir, json);
  recipe::LoadOptions load;
  load.plugins = recipe::registry_catalog_factory();
  load.overrides = overrides;
  auto loaded = recipe::load_recipe(located->recipe, load);
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return 1;
  }
  auto parts = recipe::build_components(loaded->config);
  if (!parts.ok()) {
    std::cerr << "chorus eval: " << parts.status().message() << "\n";
    return 1;
  }
  auto ckpt = train::load_checkpoint(located->checkpoint);
  if (!ckpt.ok()) {
    std::cerr << "chorus eval: " << ckpt.status().message() << "\n";
    return 1;
  }
  if (auto s = (*parts)->model->load_state_dict(ckpt->model); !s.ok()) {
    std::cerr << "chorus eval: " << located->checkpoint << ": " << s.message() << "\n";
    return 1;
  }
  recipe::Evaluator evaluator(*(*parts)->model, loaded->config, *(*parts)->data,
                              (*parts)->prompts_or_null(), (*parts)->prompt_encoder);
  auto result = evaluator.run((*parts)->trained_pairs(loaded->config));
  if (!result.ok()) {
    std::cerr << "chorus eval: " << result.status().message() << "\n";
    return 1;
  }
  nlohmann::json out = result->metrics;
  out["checkpoint"] = located->checkpoint;
  out["step"] = ckpt->state.step;
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "checkpoint " << located->checkpoint << " (step " << ckpt->state.step << ")\n";
    print_flat(result->metrics, "");
  }
  return 0;
}

}  // namespace chorus::cli
