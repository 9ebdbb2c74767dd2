// The stage runner behind `chorus train`: runs a recipe's stages in order on one run directory.
//
//   auto recipe = recipe::load_recipe("recipes/quickstart.yaml", load_options);
//   auto result = recipe::train_recipe(*recipe, {.argv = argv});
//   // result->run_dir holds recipe.resolved.yaml, command.txt, log.txt, metrics.jsonl,
//   // checkpoints/, eval.json, embeddings.jsonl, report.html
//
// Steps are numbered globally across stages (stage k covers [start_k, start_k + steps_k)), so
// checkpoint names and metrics.jsonl rows never collide between stages. A checkpoint holds the
// model, the running stage's optimizer, the data cursor and the stage index; `resume: latest`
// restarts inside the stage it was taken in (a checkpoint at a stage's last step starts the next
// stage with a fresh optimizer, as an uninterrupted run does). Every stage ends with a
// checkpoint and an evaluation (eval.json "stages"); the last one is also eval.json "final".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/recipe/recipe.h"
#include "nlohmann/json.hpp"

namespace chorus::recipe {

struct TrainOptions {
  std::vector<std::string> argv;  // the command line, for command.txt
  bool quiet = false;             // no terminal output (log.txt still gets every line)
  // Test hook for crash recovery: after the checkpoint of this global step, the process sends
  // itself SIGKILL (0: never). Checkpoints are only forced at this step if one is due.
  int64_t kill_after_step = 0;
};

struct TrainResult {
  std::string run_dir;
  nlohmann::json eval;  // what eval.json holds
};

absl::StatusOr<TrainResult> train_recipe(const Recipe& recipe, const TrainOptions& options = {});

// Steps of each stage: `steps`, or ceil(epochs · samples_per_epoch / batch_size).
std::vector<int64_t> stage_lengths(const RecipeConfig& config, int64_t samples_per_epoch);

// Does `name` match any of the shell-style globs ("encoders.image.*")?
bool matches_any(const std::string& name, const std::vector<std::string>& globs);

}  // namespace chorus::recipe
