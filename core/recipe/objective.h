// StageObjective: the loss of one training step of one alignment stage.
//
// For a loaded batch it embeds every modality the stage's pairs name (once each), then for
// every pair (a, b) takes the rows that carry both modalities and sums the stage's configured
// terms:
//   instance  symmetric InfoNCE with the learnable logit scale (or a fixed temperature)
//   cluster   Contrastive Clustering (instance τ_I + cluster τ_C − entropy) or SwAV
//   semantic  SupCon over the pair's two modalities pooled together, positives = same label
//             (or same caption), with the class-prompt text embeddings as extra positives
// Each term is weighted by its `weight`; pairs are summed. A stage naming a `task` (fixed
// weights) weights the instance term's two directions by their query modality's weight:
// (w_a·L_{a→b} + w_b·L_{b→a}) / (w_a + w_b), which is the symmetric loss when w_a = w_b. Semantic
// positives never cross a pair: audio and image rows of the same class are not pulled together when
// only image-text and audio-text are configured, so audio->image stays an emergent property.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "core/data/loaded_batch.h"
#include "core/data/mixed_source.h"
#include "core/recipe/align_model.h"
#include "core/recipe/class_prompts.h"
#include "core/recipe/config.h"

namespace chorus::recipe {

struct StepLoss {
  Tensor loss;  // 0-dim, differentiable
  // "loss.instance.image-text" -> a detached 0-dim tensor, on the loss's device: read (a wait
  // for the device) only on the steps that log them.
  std::map<std::string, Tensor> metrics;
  int64_t pairs_used = 0;  // rows that entered at least one pair term
};

// Text side of class prompts: how prompt strings become embeddings.
struct PromptEncoder {
  std::string modality;                            // the recipe's text modality ("text")
  std::shared_ptr<const plugin::Decoder> decoder;  // its decoder (inline text)
};

class StageObjective {
 public:
  // `prompts` / `prompt_encoder` may be null/empty: the semantic term then has no prompts.
  // `source` gives caption texts when semantic positives are captions.
  // `task`: the stage's task (StageConfig::task) when it names one, else null.
  StageObjective(AlignModel& model, const StageConfig& stage, const ClassPrompts* prompts,
                 PromptEncoder prompt_encoder, const data::MixedSource* source,
                 const TaskConfig* task = nullptr);

  absl::StatusOr<StepLoss> compute(const data::LoadedBatch& batch);

  // Pairs of the stage after the anchor filter.
  const std::vector<ModalityPair>& pairs() const { return pairs_; }

 private:
  absl::StatusOr<Tensor> prompt_embeddings();
  Tensor caption_ids(const data::LoadedBatch& batch, const std::vector<int64_t>& rows) const;

  AlignModel& model_;
  const StageConfig& stage_;
  const ClassPrompts* prompts_;
  PromptEncoder prompt_encoder_;
  const data::MixedSource* source_;
  std::vector<ModalityPair> pairs_;
  std::optional<data::Batch> prompt_batch_;     // decoded once
  std::map<std::string, double> task_weights_;  // the stage's task's fixed weights, if any
};

// (w_a·L_{a→b} + w_b·L_{b→a}) / (w_a + w_b) of InfoNCE with logits scale·âb̂ᵀ, L_{a→b} the
// cross-entropy of a's rows as queries over b's rows.
Tensor directional_info_nce(const Tensor& za, const Tensor& zb, const Tensor& scale, double w_a,
                            double w_b);

// Rows present in both sorted row lists, and each one's position in either list.
struct PairRows {
  std::vector<int64_t> rows, pos_a, pos_b;
};
PairRows intersect_rows(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace chorus::recipe
