#include "core/nn/moe/init.h"

#include <algorithm>
#include <array>
#include <vector>

namespace chorus::nn::moe {

namespace {

// Values lo + (hi - lo)·u with u uniform in [0, 1) from the Philox stream (seed, offset).
Tensor uniform_values(const Shape& shape, double lo, double hi, DType dtype, Generator& gen) {
  const int64_t n = shape_numel(shape);
  const uint64_t offset = gen.reserve(static_cast<uint64_t>(n));
  std::vector<double> v(static_cast<size_t>(n));
  // Element i takes word i % 4 of block offset + i / 4 (the layout of philox.h), so one block
  // serves four elements.
  const std::array<uint32_t, 2> key{static_cast<uint32_t>(gen.seed()),
                                    static_cast<uint32_t>(gen.seed() >> 32)};
  for (int64_t i0 = 0; i0 < n; i0 += 4) {
    const uint64_t block = offset + static_cast<uint64_t>(i0) / 4;
    const auto words = philox4x32_10(
        {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0}, key);
    for (int64_t i = i0; i < std::min<int64_t>(n, i0 + 4); ++i) {
      const float u = uniform_from_word(words[i - i0]);
      v[static_cast<size_t>(i)] = lo + (hi - lo) * static_cast<double>(u);
    }
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
