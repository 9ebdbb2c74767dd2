// Expert feed-forward networks of an MoE layer.
//
// GroupedExperts holds E experts stacked along a leading dim and runs them all at once over
// tokens sorted by expert (grouped_matmul), the dropless layout:
//   SwiGLU:   y = (silu(x·w1[e]) ⊙ (x·w3[e])) · w2[e]     w1, w3 [E, d, f], w2 [E, f, d]
//   GELU MLP: y = gelu(x·w1[e]) · w2[e]                  (no w3)
// DenseFeedForward is the same network without the expert dim, used for the always-on shared
// experts (DeepSeekMoE): n_shared experts of width f are one dense network of width n_shared·f.
// Weights are stored [in, out] (x · w) in both, so a dense network is one expert's slice.
#pragma once

#include <cstdint>

#include "core/nn/module.h"
#include "core/tensor/philox.h"

namespace chorus::nn::moe {

enum class ExpertKind { kSwiGLU, kGeluMlp };

class GroupedExperts : public Module {
 public:
  // Initialised uniform in ±1/sqrt(fan_in) from `gen`.
  GroupedExperts(int64_t num_experts, int64_t d_model, int64_t d_ff, ExpertKind kind, DType dtype,
                 Generator& gen);

  // x [M, d] sorted by expert, offsets i64 [E + 1] (see grouped_matmul) -> [M, d].
  Tensor forward(const Tensor& x, const Tensor& offsets) const;

  ExpertKind kind() const { return kind_; }

  Tensor w1, w2, w3;  // w3 is undefined for the GELU MLP

 private:
  ExpertKind kind_;
};

class DenseFeedForward : public Module {
 public:
  DenseFeedForward(int64_t d_model, int64_t d_ff, ExpertKind kind, DType dtype, Generator& gen);

  // x [..., d] -> [..., d].
  Tensor forward(const Tensor& x) const;

  Tensor w1, w2, w3;  // w1, w3 [d, f], w2 [f, d]; w3 undefined for the GELU MLP

 private:
  ExpertKind kind_;
};

}  // namespace chorus::nn::moe
