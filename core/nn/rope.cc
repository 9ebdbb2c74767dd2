#include "core/nn/rope.h"

#include <cmath>
#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/join.h"

namespace chorus::nn {
namespace {

// cos and sin of pos·θ_i for every listed position: tensors [positions.size(), D/2].
std::pair<Tensor, Tensor> tables(const std::vector<double>& positions, int64_t d, double base,
                                 DType dtype) {
  const int64_t half = d / 2;
  const int64_t n = static_cast<int64_t>(positions.size());
  std::vector<double> c(static_cast<size_t>(n * half)), s(c.size());
  for (int64_t i = 0; i < half; ++i) {
    const double theta = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d));
    for (int64_t p = 0; p < n; ++p) {
      const double angle = positions[p] * theta;
      c[p * half + i] = std::cos(angle);
      s[p * half + i] = std::sin(angle);
    }
  }
  return {Tensor::from_doubles(c, {n, half}, dtype), Tensor::from_doubles(s, {n, half}, dtype)};
}

Tensor rotate(const Tensor& x, const std::vector<double>& positions, const Shape& table_shape,
              double base) {
  CHORUS_CHECK(x.dim() == 4, "apply_rope: x must be [B, H, L, D], got ", shape_str(x.shape()));
  const int64_t d = x.size(3);
  CHORUS_CHECK(d % 2 == 0, "apply_rope: head dim ", d, " must be even");
  CHORUS_CHECK(is_floating(x.dtype()), "apply_rope: needs a floating tensor, got ",
               dtype_name(x.dtype()));
  CHORUS_CHECK(base > 0, "apply_rope: base must be positive, got ", base);
  const DType compute = x.dtype() == DType::kF64 ? DType::kF64 : DType::kF32;
  auto [cos_t, sin_t] = tables(positions, d, base, compute);
  // [L, D/2] broadcasts against [B, H, L, D/2]; [B, L, D/2] needs the head dim inserted.
  cos_t = cos_t.reshape(table_shape);
  sin_t = sin_t.reshape(table_shape);
  const Tensor xc = x.dtype() == compute ? x : x.to(compute);
  const Tensor x1 = xc.narrow(3, 0, d / 2), x2 = xc.narrow(3, d / 2, d / 2);
  Tensor out =
      concat({sub(mul(x1, cos_t), mul(x2, sin_t)), add(mul(x2, cos_t), mul(x1, sin_t))}, 3);
  return out.dtype() == x.dtype() ? out : out.to(x.dtype());
}

}  // namespace

Tensor apply_rope(const Tensor& x, const Tensor& positions, double base) {
  CHORUS_CHECK(x.dim() == 4, "apply_rope: x must be [B, H, L, D], got ", shape_str(x.shape()));
  CHORUS_CHECK(positions.defined() && is_integral(positions.dtype()),
               "apply_rope: positions must be an integer tensor");
  const int64_t b = x.size(0), l = x.size(2), half = x.size(3) / 2;
  Shape table_shape;
  if (positions.dim() == 1) {
    CHORUS_CHECK(positions.size(0) == l, "apply_rope: positions ", shape_str(positions.shape()),
                 " for a sequence of ", l);
    table_shape = {l, half};
  } else {
    CHORUS_CHECK(positions.dim() == 2 && positions.size(0) == b && positions.size(1) == l,
                 "apply_rope: positions ", shape_str(positions.shape()), " for x ",
                 shape_str(x.shape()), " (expected [L] or [B, L])");
    table_shape = {b, 1, l, half};
  }
  return rotate(x, positions.to_vector<double>(), table_shape, base);
}

Tensor apply_rope(const Tensor& x, int64_t offset, double base) {
  CHORUS_CHECK(x.dim() == 4, "apply_rope: x must be [B, H, L, D], got ", shape_str(x.shape()));
  CHORUS_CHECK(offset >= 0, "apply_rope: negative position offset ", offset);
  const int64_t l = x.size(2);
  std::vector<double> positions(static_cast<size_t>(l));
  for (int64_t i = 0; i < l; ++i) positions[i] = static_cast<double>(offset + i);
  return rotate(x, positions, {l, x.size(3) / 2}, base);
}

}  // namespace chorus::nn
