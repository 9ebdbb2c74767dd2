// Embedding-space evaluation: zero-shot classification against class prompts and cross-modal
// retrieval recall. Inputs are embeddings of the shared space (any scale: they are
// L2-normalised here, so scores are cosine similarities). No gradients are recorded.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::align {

// Class embeddings [C, D]: prompts [P, D] normalised, averaged per class (prompt_class[p] in
// [0, C)), normalised again (CLIP's prompt ensembling). Every class needs at least one prompt.
Tensor class_embeddings(const Tensor& prompts, const std::vector<int64_t>& prompt_class,
                        int64_t num_classes);

struct ZeroShotResult {
  double top1 = 0;
  double top5 = 0;  // with fewer than 5 classes: top-C, i.e. 1
  int64_t count = 0;
};

// Classifies each embedding [N, D] as the class with the highest cosine score; a sample counts
// as top-k correct when fewer than k classes score strictly higher than its true class.
ZeroShotResult zero_shot_accuracy(const Tensor& embeddings, const std::vector<int64_t>& labels,
                                  const Tensor& class_embeddings);

// Recall@{1, 5, 10} for matched rows (row i of a belongs with row i of b): the fraction of
// queries whose match has rank < k among all N candidates (rank = candidates scoring strictly
// higher than the match).
struct RetrievalResult {
  std::array<double, 3> a_to_b{};  // R@1, R@5, R@10, queries from a
  std::array<double, 3> b_to_a{};
};
RetrievalResult retrieval_recall(const Tensor& a, const Tensor& b);

}  // namespace chorus::align
