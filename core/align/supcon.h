// Semantic-wise alignment: supervised contrastive loss (SupCon, Khosla et al., NeurIPS 2020),
// the L_out form, over the embeddings of several modalities pooled into one set.
//
// With ẑ the normalised rows, P(i) = {p ≠ i : y_p = y_i} and A(i) = {a ≠ i}:
//   L = mean over anchors i with P(i) ≠ ∅ of  −1/|P(i)| Σ_{p∈P(i)} log( exp(ẑ_i·ẑ_p/τ) / Σ_{a∈A(i)}
//   exp(ẑ_i·ẑ_a/τ) )
// τ = 0.1. (Khosla's code also multiplies by τ/base_τ with base_τ = 0.07; here base_τ = τ, the
// paper's formula.) Labels are class ids or caption ids: any integer that marks "same meaning".
// Class-prompt text embeddings join the set as extra members carrying their class id, so every
// sample has its class prompt among its positives; they may or may not act as anchors.
#pragma once

#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::align {

struct SupConOptions {
  double temperature = 0.1;
};

// z [N, D], labels [N] (i64/i32). anchors: optional [N] bool/u8/i64 mask of rows that act as
// anchors (all rows when undefined); non-anchors still serve as positives and negatives.
// Throws chorus::Error if no anchor has a positive.
Tensor supcon_loss(const Tensor& z, const Tensor& labels, const SupConOptions& options = {},
                   const Tensor& anchors = Tensor());

// The semantic stage's form: `embeddings` of several modalities (each [N_m, D]) with their
// labels, plus class-prompt embeddings [C, D] with their classes [C] (may be undefined to
// leave prompts out). Prompts are positives of every sample of their class; with
// prompts_as_anchors they also contribute anchor terms.
Tensor supcon_with_prompts(const std::vector<Tensor>& embeddings, const std::vector<Tensor>& labels,
                           const Tensor& prompts, const Tensor& prompt_labels,
                           bool prompts_as_anchors, const SupConOptions& options = {});

}  // namespace chorus::align
