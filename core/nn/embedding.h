// Embedding: a lookup table of `num` vectors of width `dim` (token embeddings, and the learned
// positional embedding in positional_embedding.h).
#pragma once

#include <optional>

#include "core/nn/module.h"
#include "core/tensor/philox.h"

namespace chorus::nn {

struct EmbeddingOptions {
  // A row that receives no gradient and starts at zero (PyTorch's padding_idx); negative
  // values count from num.
  std::optional<int64_t> padding_idx;
  double init_std = 1.0;  // weight ~ normal(0, init_std); 1 is PyTorch's default, GPTs use 0.02
  DType dtype = DType::kF32;
};

class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, Generator& gen, const EmbeddingOptions& options = {});

  // Integer indices of any shape -> indices.shape + [dim].
  Tensor forward(const Tensor& indices) const;

  int64_t num() const { return weight.size(0); }
  int64_t dim() const { return weight.size(1); }

  Tensor weight;  // [num, dim]

 private:
  std::optional<int64_t> padding_idx_;
};

}  // namespace chorus::nn
