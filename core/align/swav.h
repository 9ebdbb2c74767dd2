// The SwAV-style alternative for the cluster-wise stage (Caron et al., NeurIPS 2020), with the
// two augmented views replaced by two modalities of the same samples.
//
// Scores s = ẑ Ĉᵀ against K normalised prototypes C; codes q = Sinkhorn-Knopp(s) (equal
// cluster sizes within the batch, no gradient); swapped prediction
//   L = −½ [ mean_i Σ_k q_b[i,k] log softmax(s_a[i]/τ)_k + mean_i Σ_k q_a[i,k] log
//   softmax(s_b[i]/τ)_k ]
#pragma once

#include "core/nn/module.h"
#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus::align {

// K prototype vectors [K, D]; normalised in the forward (differentiably) rather than in place
// after each step, so the optimizer sees the same geometry the loss does.
class Prototypes : public nn::Module {
 public:
  Prototypes(int64_t dim, int64_t num_prototypes, Generator& gen, DType dtype = DType::kF32);
  Tensor forward(const Tensor& z) const;  // cosine scores [B, K]
  Tensor weight;                          // [K, D]
};

// Sinkhorn-Knopp (SwAV's distributed_sinkhorn on one process): Q = exp(s/ε)ᵀ normalised to sum
// 1, then `iterations` rounds of row (prototype) and column (sample) normalisation; returns
// B·Qᵀ [B, K], rows summing to 1. Computed in f64 without gradient; the result has s's dtype.
// The global max is subtracted before exp, which the normalisation cancels, so small ε cannot
// overflow.
Tensor sinkhorn_knopp(const Tensor& scores, double epsilon = 0.05, int iterations = 3);

struct SwavOptions {
  double temperature = 0.1;  // τ of the prediction softmax
  double epsilon = 0.05;     // Sinkhorn ε
  int iterations = 3;        // Sinkhorn iterations
};

struct SwavLoss {
  Tensor loss;     // 0-dim
  Tensor codes_a;  // [B, K], no gradient
  Tensor codes_b;
};

// scores_a, scores_b: [B, K] prototype scores of the two modalities (Prototypes::forward).
SwavLoss swav_loss(const Tensor& scores_a, const Tensor& scores_b, const SwavOptions& options = {});

}  // namespace chorus::align
