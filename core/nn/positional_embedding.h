// Learned absolute positional embedding (GPT-2, BERT, ViT): one trained vector per position,
// added to the token embeddings at the model input. Models using RoPE do without it.
#pragma once

#include <memory>

#include "core/nn/embedding.h"

namespace chorus::nn {

class PositionalEmbedding : public Module {
 public:
  // init_std 0.02 as in GPT-2 (trunc-normal init is not needed: a small normal is customary).
  PositionalEmbedding(int64_t max_length, int64_t dim, Generator& gen, double init_std = 0.02,
                      DType dtype = DType::kF32);

  // Vectors for positions offset .. offset + length − 1: [length, dim], broadcasting over a
  // batch when added to [B, length, dim] token embeddings.
  Tensor forward(int64_t length, int64_t offset = 0) const;
  // Vectors for explicit integer positions of any shape -> positions.shape + [dim].
  Tensor forward(const Tensor& positions) const;

  int64_t max_length() const { return table->num(); }

  std::shared_ptr<Embedding> table;  // state_dict name "table.weight"
};

}  // namespace chorus::nn
