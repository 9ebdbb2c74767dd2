#include "core/nn/moe/init.h"

#include <vector>

namespace chorus::nn::moe {

namespace {

// Values lo + (hi - lo)·u with u uniform in [0, 1) from the Philox stream (seed, offset).
Tensor uniform_values(const Shape& shape, double lo, double hi, DType dtype, Generator& gen) {
  const int64_t n = shape_numel(shape);
  const uint64_t offset = gen.reserve(static_cast<uint64_t>(n));
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float u = uniform_from_word(philox_word(gen.seed(), offset, static_cast<uint64_t>(i)));
    v[static_cast<size_t>(i)] = lo + (hi - lo) * static_cast<double>(u);
  }
  return Tensor::from_doubles(v, shape, dtype);
}

}  // namespace

Tensor uniform_init(const Shape& shape, double bound, DType dtype, Generator& gen) {
  return uniform_values(shape, -bound, bound, dtype, gen);
}

Tensor uniform_jitter(const Shape& shape, double eps, DType dtype, Generator& gen) {
  return uniform_values(shape, 1.0 - eps, 1.0 + eps, dtype, gen);
}

}  // namespace chorus::nn::moe
