#include "core/nn/positional_embedding.h"

namespace chorus::nn {

PositionalEmbedding::PositionalEmbedding(int64_t max_length, int64_t dim, Generator& gen,
                                         double init_std, DType dtype)
    : Module("PositionalEmbedding") {
  EmbeddingOptions options;
  options.init_std = init_std;
  options.dtype = dtype;
  table = register_module("table", std::make_shared<Embedding>(max_length, dim, gen, options));
}

Tensor PositionalEmbedding::forward(int64_t length, int64_t offset) const {
  CHORUS_CHECK(length >= 0 && offset >= 0 && offset + length <= max_length(),
               "PositionalEmbedding: positions [", offset, ", ", offset + length,
               ") exceed the table of ", max_length());
  return table->forward(Tensor::arange(offset, offset + length).to(table->weight.device()));
}

Tensor PositionalEmbedding::forward(const Tensor& positions) const {
  return table->forward(positions);
}

}  // namespace chorus::nn
