#include "core/align/pca.h"

#include <cmath>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/tensor/philox.h"

namespace chorus::align {

namespace {

// Modified Gram–Schmidt on the columns of v [D, k] (row-major), in place.
void orthonormalise(std::vector<double>& v, int64_t d, int64_t k) {
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t p = 0; p < j; ++p) {
      double dot = 0;
      for (int64_t t = 0; t < d; ++t) dot += v[t * k + j] * v[t * k + p];
      for (int64_t t = 0; t < d; ++t) v[t * k + j] -= dot * v[t * k + p];
    }
    double nrm = 0;
    for (int64_t t = 0; t < d; ++t) nrm += v[t * k + j] * v[t * k + j];
    nrm = std::sqrt(nrm);
    CHORUS_CHECK(nrm > 0, "pca: the data has fewer than ", k, " directions of variance");
    for (int64_t t = 0; t < d; ++t) v[t * k + j] /= nrm;
  }
}

}  // namespace

PcaResult pca(const Tensor& input, int64_t k, int max_iterations, double tol, uint64_t seed) {
  CHORUS_CHECK(input.dim() == 2 && input.size(0) >= 2, "pca: expected points [N >= 2, D], got ",
               shape_str(input.shape()));
  const int64_t n = input.size(0), d = input.size(1);
  CHORUS_CHECK(k >= 1 && k <= d, "pca: ", k, " components asked of ", d, "-dim data");
  autograd::NoGradGuard no_grad;
  PcaResult r;
  const Tensor x = input.to(DType::kF64).contiguous();
  r.mean = mean(x, {0});
  const Tensor xc = sub(x, r.mean).contiguous();

  std::vector<double> v(static_cast<size_t>(d * k));
  for (size_t i = 0; i < v.size(); ++i) v[i] = uniform_from_word(philox_word(seed, 0, i)) - 0.5;
  orthonormalise(v, d, k);
  for (int it = 0; it < max_iterations; ++it) {
    const Tensor vt = Tensor::from_doubles(v, {d, k}, DType::kF64);
    std::vector<double> next = matmul(xc.t(), matmul(xc, vt)).to_vector<double>();
    orthonormalise(next, d, k);
    double moved = 0;  // |new − ±old| per column (sign-aligned), worst over columns
    for (int64_t j = 0; j < k; ++j) {
      double dot = 0, diff = 0;
      for (int64_t t = 0; t < d; ++t) dot += v[t * k + j] * next[t * k + j];
      const double sign = dot < 0 ? -1.0 : 1.0;
      for (int64_t t = 0; t < d; ++t) diff += std::pow(next[t * k + j] - sign * v[t * k + j], 2);
      moved = std::max(moved, std::sqrt(diff));
    }
    v = std::move(next);
    if (moved < tol) break;
  }
  for (int64_t j = 0; j < k; ++j) {  // sign convention: largest-magnitude coordinate > 0
    int64_t big = 0;
    for (int64_t t = 1; t < d; ++t)
      if (std::fabs(v[t * k + j]) > std::fabs(v[big * k + j])) big = t;
    if (v[big * k + j] < 0)
      for (int64_t t = 0; t < d; ++t) v[t * k + j] = -v[t * k + j];
  }
  const Tensor vt = Tensor::from_doubles(v, {d, k}, DType::kF64);
  const Tensor proj = matmul(xc, vt);
  const std::vector<double> pv = proj.to_vector<double>();
  r.variance.assign(k, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) r.variance[j] += pv[i * k + j] * pv[i * k + j] / double(n - 1);
  r.projection = proj.to(DType::kF32);
  r.components = vt.t().contiguous().to(DType::kF32);
  r.mean = r.mean.to(DType::kF32);
  return r;
}

}  // namespace chorus::align
