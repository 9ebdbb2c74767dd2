// Trainer: the training step every recipe uses, and the bookkeeping around it.
//
// One step = `grad_accumulation` micro-batches (forward, loss = task + auxiliary, backward with
// the loss scaled by 1/N), then global-norm clipping, the optimizer update, zeroing, the
// learning-rate schedule, and a line in <run_dir>/metrics.jsonl:
//   {"step": 12, "loss": 2.31, "grad_norm": 0.8, "lr": 3e-4, "tokens_per_s": 5200, ...}
// where "..." are the micro-batches' own metrics (e.g. MoE telemetry), averaged.
//
// Checkpoints (core/train/checkpoint.h) hold the model, the optimizer state, every tracked
// random stream and the data cursor, so that resume() followed by run() produces the same bits
// as an uninterrupted run on the same hardware.
//
//   Trainer trainer(model, optimizer, options);
//   trainer.track_generator("dropout", &dropout_gen);
//   trainer.set_cursor_hooks(save_cursor, load_cursor);
//   auto resumed = trainer.resume();            // 0 when nothing to resume
//   auto status = trainer.run([&](int64_t step, int64_t micro) { return forward_batch(...); });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/nn/module.h"
#include "core/optim/optimizer.h"
#include "core/optim/schedule.h"
#include "core/tensor/philox.h"

namespace chorus::train {

// What one micro-batch contributes.
struct MicroBatch {
  Tensor loss;         // scalar to differentiate: task loss plus any auxiliary losses
  int64_t tokens = 0;  // for throughput
  std::map<std::string, double> metrics;  // logged, averaged over the step's micro-batches
};

struct TrainerOptions {
  int64_t max_steps = 0;   // the run's length (schedules are laid out over it)
  int64_t stop_after = 0;  // > 0: return after this step (with a checkpoint), e.g. to split a
                           // run into several processes
  int64_t grad_accumulation = 1;
  double clip_grad_norm = 0.0;  // 0 disables clipping (the norm is still logged)
  optim::Schedule schedule;     // total_steps 0: constant learning rate
  int64_t log_every = 1;
  int64_t checkpoint_every = 0;  // 0: a checkpoint at the end only
  int keep_last = 3;
  std::string run_dir;  // holds metrics.jsonl and checkpoints/
  std::string config;   // the resolved configuration, embedded in checkpoints
  std::string stage;    // recorded in checkpoints
  bool quiet = false;   // no progress lines on stdout
};

class Trainer {
 public:
  Trainer(nn::Module& model, optim::Optimizer& optimizer, TrainerOptions options);

  // A random stream whose (seed, offset) is saved in checkpoints and restored by resume().
  void track_generator(const std::string& name, Generator* generator);
  // How the data loader's position is saved and restored.
  void set_cursor_hooks(std::function<nlohmann::json()> save,
                        std::function<absl::Status(const nlohmann::json&)> load);
  // Runs after every optimizer step, before logging (e.g. MoE bias balancing).
  void set_after_step(std::function<void(int64_t step)> fn) { after_step_ = std::move(fn); }

  // Restores the newest good checkpoint under <run_dir>/checkpoints, skipping damaged ones
  // (each skip is appended to `warnings`), and trims metrics.jsonl back to that step. Returns
  // the step resumed at, 0 when there is no checkpoint.
  absl::StatusOr<int64_t> resume(std::vector<std::string>* warnings = nullptr);

  // Trains from step() to max_steps. An engine error inside the step is returned as a status
  // naming the step; checkpoints already written stay valid.
  absl::Status run(const std::function<MicroBatch(int64_t step, int64_t micro)>& micro_batch);

  // Writes a checkpoint of the current step and returns its directory.
  absl::StatusOr<std::string> save_checkpoint();

  int64_t step() const { return step_; }
  std::string checkpoint_root() const { return options_.run_dir + "/checkpoints"; }
  std::string metrics_path() const { return options_.run_dir + "/metrics.jsonl"; }

 private:
  absl::Status append_metrics(const nlohmann::json& line);
  absl::Status trim_metrics(int64_t last_step);

  nn::Module& model_;
  optim::Optimizer& optimizer_;
  TrainerOptions options_;
  optim::LrScheduler scheduler_;
  std::map<std::string, Generator*> generators_;
  std::function<nlohmann::json()> save_cursor_;
  std::function<absl::Status(const nlohmann::json&)> load_cursor_;
  std::function<void(int64_t)> after_step_;
  int64_t step_ = 0;
};

}  // namespace chorus::train
