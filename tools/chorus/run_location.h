// Finding a run's recipe and checkpoint from what a user types: a run directory
// (runs/quick/20261128-193012, using its newest good checkpoint) or a checkpoint directory
// (runs/.../checkpoints/step-00000300).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace chorus::cli {

struct RunLocation {
  std::string run_dir;
  std::string checkpoint;  // a checkpoint directory
  std::string recipe;      // <run_dir>/recipe.resolved.yaml
};

absl::StatusOr<RunLocation> locate_run(const std::string& path);

}  // namespace chorus::cli
