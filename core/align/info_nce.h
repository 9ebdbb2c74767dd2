// Instance-wise alignment: symmetric InfoNCE between two modalities (CLIP, Radford et al.
// 2021; ImageBind, Girdhar et al. 2023), summed over configured modality pairs.
//
// For a batch of B matched pairs (row i of `a` belongs with row i of `b`), with â, b̂ the
// L2-normalised rows and s the logit scale (1/temperature):
//   logits = s · â b̂ᵀ                                    [B, B]
//   L = ½ (CE(logits, i ↦ i) + CE(logitsᵀ, i ↦ i))      (mean over rows)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/nn/module.h"
#include "core/tensor/tensor.h"

namespace chorus::align {

// The learnable logit scale as CLIP keeps it: a parameter holding log s, initialised at
// log(1/0.07); the forward uses s = exp(min(log s, ln 100)), so the scale never exceeds 100
// (and the clamped parameter gets no gradient, as in CLIP's clamp).
class LogitScale : public nn::Module {
 public:
  explicit LogitScale(double init_temperature = 0.07, double max_scale = 100.0,
                      DType dtype = DType::kF32);
  Tensor scale() const;  // 0-dim, differentiable in log_scale
  double value() const;  // the scale as used in the forward, for logging
  Tensor log_scale;      // 0-dim parameter

 private:
  double max_log_;
};

// Symmetric InfoNCE with a scale tensor (0-dim, e.g. LogitScale::scale(); differentiable).
Tensor info_nce(const Tensor& a, const Tensor& b, const Tensor& scale);
// Symmetric InfoNCE with a fixed temperature τ (scale 1/τ).
Tensor info_nce(const Tensor& a, const Tensor& b, double temperature);

// One modality pair of the instance stage.
struct PairSpec {
  std::string a, b;
  double weight = 1.0;
  std::optional<double> temperature;  // fixed τ for this pair; unset: the learnable scale
};

struct PairLosses {
  Tensor total;                                       // Σ weight · L_pair (0-dim)
  std::vector<std::pair<std::string, Tensor>> terms;  // "image-text" -> L_pair (unweighted)
};

// Sums InfoNCE over `pairs` of `embeddings` (name -> [B, D], same B). Empty `pairs` means every
// unordered pair of the given modalities (weight 1). With `anchor`, only pairs containing the
// anchor modality count (ImageBind binds everything to images). `scale` may be undefined when
// every used pair has a fixed temperature. Throws chorus::Error naming a missing modality, a
// batch-size mismatch, or a selection that leaves no pair.
PairLosses multi_pair_info_nce(const std::map<std::string, Tensor>& embeddings,
                               const std::vector<PairSpec>& pairs, const Tensor& scale,
                               const std::optional<std::string>& anchor = std::nullopt);

}  // namespace chorus::align
