#include "tools/chorus/run_location.h"

#include <filesystem>
#include <iostream>
#include <vector>

#include "core/train/checkpoint.h"

namespace chorus::cli {

namespace fs = std::filesystem;

absl::StatusOr<RunLocation> locate_run(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  if (!fs::is_directory(p, ec)) {
    return absl::NotFoundError(path + " is not a run or checkpoint directory");
  }
  RunLocation out;
  if (fs::exists(p / "manifest.json")) {
    out.checkpoint = p.string();
    out.run_dir = p.parent_path().parent_path().string();
  } else {
    out.run_dir = p.string();
    std::vector<std::string> warnings;
    auto latest = train::load_latest_checkpoint((p / "checkpoints").string(), &warnings);
    for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
    if (!latest.ok()) {
      return absl::NotFoundError(path + ": no usable checkpoint (" +
                                 std::string(latest.status().message()) + ")");
    }
    out.checkpoint = latest->dir;
  }
  out.recipe = (fs::path(out.run_dir) / "recipe.resolved.yaml").string();
  if (!fs::exists(out.recipe)) {
    return absl::NotFoundError(out.run_dir + " has no recipe.resolved.yaml (not a chorus run?)");
  }
  return out;
}

}  // namespace chorus::cli
