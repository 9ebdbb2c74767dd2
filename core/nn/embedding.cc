#include "core/nn/embedding.h"

#include "core/nn/init.h"
#include "core/ops/embedding.h"

namespace chorus::nn {

Embedding::Embedding(int64_t num, int64_t dim, Generator& gen, const EmbeddingOptions& options)
    : Module("Embedding") {
  CHORUS_CHECK(num > 0 && dim > 0, "Embedding: sizes must be positive, got ", num, " x ", dim);
  if (options.padding_idx) {
    const int64_t p = *options.padding_idx < 0 ? *options.padding_idx + num : *options.padding_idx;
    CHORUS_CHECK(p >= 0 && p < num, "Embedding: padding_idx ", *options.padding_idx,
                 " is outside a table of ", num);
    padding_idx_ = p;
  }
  Tensor w = init::normal({num, dim}, 0.0, options.init_std, gen, options.dtype);
  if (padding_idx_) w.select(0, *padding_idx_).zero_();
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& indices) const {
  return embedding(weight, indices, padding_idx_);
}

}  // namespace chorus::nn
