// Load-balancing losses of MoE routers, as free functions of the router's outputs so that
// tests (and other layers) can use them on their own. All return unscaled 0-dim tensors; the
// MoE layer multiplies them by their coefficients.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::nn::moe {

// Assignments per expert: i64 [E] counts of the values of `indices` (integer, any shape).
Tensor expert_counts(const Tensor& indices, int64_t num_experts);

// Switch/GShard auxiliary loss E · Σ_i f_i · P_i over N tokens: f_i is the fraction of the
// N·k routed assignments (indices [N, k]) that went to expert i (a constant), P_i the mean over
// tokens of probs[:, i] (probs [N, E], rows summing to 1). Equals 1 for a perfectly uniform
// router; differentiable in probs.
Tensor load_balancing_loss(const Tensor& probs, const Tensor& indices, int64_t num_experts);

// The same loss per sequence (probs [B, L, E], indices [B, L, k]: f and P are computed within
// each sequence), averaged over the B sequences (DeepSeek-V3's sequence-wise balance loss).
Tensor sequence_balancing_loss(const Tensor& probs, const Tensor& indices, int64_t num_experts);

// Router z-loss (ST-MoE, Zoph et al. 2022): mean over tokens of logsumexp(logits[t, :])²,
// logits [N, E]. Keeps router logits small, which keeps the softmax well conditioned.
Tensor router_z_loss(const Tensor& logits);

}  // namespace chorus::nn::moe
