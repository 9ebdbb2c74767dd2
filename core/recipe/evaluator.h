// Evaluator: the metrics of `chorus eval` and of every stage end, computed on frozen embeddings.
//
//   zero_shot.<m>.top1/top5      each non-text modality classified by class-prompt embeddings
//   retrieval.<a>-<b>.a_to_b.r1  R@1/5/10 both ways on rows that carry both modalities
//   emergent.<a>-<b>.accuracy    share of <a> queries whose nearest <b> item has the same label
//                                (plus R@k), for pairs no stage trained together
//   linear_probe.<m>.accuracy    logistic regression on frozen train-split embeddings
//   clustering.<m>.acc/nmi/ari   k-means (k = classes) against the labels
//   task.<t>.accuracy            top-1 of a task stage's fused classifier (task_objective.h),
//   task.<t>.weights.<m>         with the mean modality weights it used (eval mode: no dropout)
//   task.<t>.unimodal.<m>        and each modality alone through the same core and head
// The result is a JSON object keyed like the list above. A sample of embeddings is kept for the
// report's PCA view.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/recipe/align_model.h"
#include "core/recipe/class_prompts.h"
#include "core/recipe/data_setup.h"
#include "core/recipe/objective.h"
#include "nlohmann/json.hpp"

namespace chorus::recipe {

// Embeddings of one split: per modality the L2-normalised rows, their sample indices and labels.
struct SplitEmbeddings {
  std::map<std::string, Tensor> z;                     // [N_m, D]
  std::map<std::string, std::vector<int64_t>> sample;  // [N_m] index in the split
  std::map<std::string, std::vector<int64_t>> labels;  // [N_m] (-1: none)
  int64_t samples = 0;
};

struct EvalResult {
  nlohmann::json metrics = nlohmann::json::object();
  // Up to `points_per_modality` embeddings per modality, for embeddings.jsonl.
  nlohmann::json embedding_sample = nlohmann::json::array();
};

class Evaluator {
 public:
  Evaluator(AlignModel& model, const RecipeConfig& config, const DataSetup& data,
            const ClassPrompts* prompts, PromptEncoder prompt_encoder);

  // Embeds up to `max_samples` (0: all) lines of `split`, without gradients, in eval mode.
  absl::StatusOr<SplitEmbeddings> embed_split(const std::string& split, int64_t max_samples);

  // Every metric the recipe's eval section asks for. `trained_pairs` are the pairs any stage
  // trained (emergent pairs default to the modality pairs not among them).
  // `max_samples` > 0 overrides the recipe's eval.max_samples (the stage runner passes
  // eval.stage_max_samples for the evaluations between stages). `tasks`: the task heads to
  // evaluate (null: every head the model has; the stage runner names those trained so far).
  absl::StatusOr<EvalResult> run(const std::vector<ModalityPair>& trained_pairs,
                                 int points_per_modality = 200, int64_t max_samples = 0,
                                 const std::set<std::string>* tasks = nullptr);

 private:
  AlignModel& model_;
  const RecipeConfig& config_;
  const DataSetup& data_;
  const ClassPrompts* prompts_;
  PromptEncoder prompt_encoder_;
};

// Fraction of rows of `queries` whose nearest row of `items` (cosine) has the same label.
double nearest_label_accuracy(const Tensor& queries, const std::vector<int64_t>& query_labels,
                              const Tensor& items, const std::vector<int64_t>& item_labels);

}  // namespace chorus::recipe
