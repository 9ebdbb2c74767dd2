#include "core/align/normalize.h"

#include <limits>
#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace chorus::align {

Tensor l2_normalize(const Tensor& x, double eps) {
  CHORUS_CHECK(x.dim() == 2, "l2_normalize: expected embeddings [N, D], got ",
               shape_str(x.shape()));
  const Tensor n =
      clamp(norm(x, 2.0, {1}, /*keepdim=*/true), eps, std::numeric_limits<double>::infinity());
  return div(x, n);
}

Tensor diagonal_mask(int64_t n, double value, DType dtype, Device device) {
  std::vector<double> v(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i * n + i)] = value;
  return Tensor::from_doubles(v, {n, n}, dtype).to(device);
}

}  // namespace chorus::align
