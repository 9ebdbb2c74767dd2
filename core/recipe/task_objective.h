// Task stages: the loss of one step of a task's fused classifier (TaskHead), and its evaluation.
//
// Loss (losses.task):
//   weight · CE(fused logits, label)
//   + modality_weight · combine_modality_losses({CE_m per sample}, w)   (Σ_m w_m L_m)
//   + the core's MoE balancing losses
// where CE_m is the cross-entropy of modality m's tokens alone through the same core and head,
// and w [B, M] are the weights the fusion used for each sample: the fixed weights, the dropout-
// rescaled ones (a dropped modality's term then counts 0) or the learned gate's (whose gradient
// then also flows through the per-modality terms).
//
// Rows: only batch lines that carry every task modality and a label (>= 0) take part.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/loaded_batch.h"
#include "core/recipe/align_model.h"
#include "core/recipe/data_setup.h"
#include "core/recipe/objective.h"
#include "nlohmann/json.hpp"

namespace chorus::recipe {

// A batch's task inputs: the encoders' outputs for the rows that carry every task modality and
// a label, in TaskHead::modalities() order.
struct TaskInputs {
  std::vector<align::ModalityInput> inputs;
  Tensor labels;              // i64 [N]
  std::vector<int64_t> rows;  // [N] batch lines used
};

absl::StatusOr<TaskInputs> task_inputs(const AlignModel& model, const TaskHead& head,
                                       const data::LoadedBatch& batch);

// Per-sample cross-entropy [B] of logits [B, C] against labels [B].
Tensor per_sample_cross_entropy(const Tensor& logits, const Tensor& labels);

struct TaskLossTerms {
  Tensor total;       // 0-dim, differentiable: what the optimizer minimises
  Tensor fused;       // CE of the fused logits (batch mean)
  Tensor modalities;  // Σ_m w_m CE_m (batch mean), undefined when modality_weight is 0
};

// The task loss of one forward (TaskHead::forward with unimodal logits when
// config.modality_weight > 0) against labels [B].
TaskLossTerms task_loss(const TaskForward& f, const Tensor& labels, const TaskLossConfig& config);

class TaskObjective {
 public:
  // `seed` keys the modality-dropout and core-dropout streams: each batch draws from
  // mix_seed(seed, epoch, batch index), so a resumed run draws the same masks.
  TaskObjective(AlignModel& model, const StageConfig& stage, uint64_t seed);

  // metrics: loss.task.<t> (fused CE), loss.task.<t>.modalities (Σ w_m L_m), loss.task.<t>.aux,
  // accuracy.task.<t> (train batch), weights.<t>.<modality> (batch means of the weights used).
  absl::StatusOr<StepLoss> compute(const data::LoadedBatch& batch);

  TaskHead& head() const { return *head_; }

 private:
  AlignModel& model_;
  const StageConfig& stage_;
  TaskHead* head_;
  TaskLossConfig loss_;
  uint64_t seed_;
};

// Evaluation of a trained task head on up to `max_samples` lines of `split` (0: all), in eval
// mode (no dropout): {"accuracy", "count", "weights": {m: mean weight used},
// "unimodal": {m: accuracy of m alone through the same core and head}}.
absl::StatusOr<nlohmann::json> evaluate_task(AlignModel& model, const TaskHead& head,
                                             const DataSetup& data, const std::string& split,
                                             int64_t max_samples, int64_t batch_size);

}  // namespace chorus::recipe
