// Linear: y = x·Wᵀ + b with W [out, in] (PyTorch's layout, so safetensors checkpoints load
// either way).
#pragma once

#include <optional>

#include "core/nn/module.h"
#include "core/tensor/philox.h"

namespace chorus::nn {

struct LinearOptions {
  bool bias = true;
  // Unset: PyTorch's default, W and b uniform in ±1/sqrt(in). Set: W ~ normal(0, init_std)
  // truncated at ±2·init_std and b = 0, the GPT-style init transformers use (std 0.02).
  std::optional<double> init_std;
  DType dtype = DType::kF32;
};

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& gen,
         const LinearOptions& options = {});

  // x [..., in] -> [..., out].
  Tensor forward(const Tensor& x) const;

  int64_t in_features() const { return weight.size(1); }
  int64_t out_features() const { return weight.size(0); }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined without bias
};

}  // namespace chorus::nn
