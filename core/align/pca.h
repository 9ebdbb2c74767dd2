// Principal component analysis by orthogonal (subspace) power iteration on the centred data,
// never forming the D×D covariance: each iteration is two GEMMs, Xcᵀ(Xc V). Used to draw the
// shared embedding space in 2-D in the run report.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::align {

struct PcaResult {
  Tensor projection;             // [N, k] f32: centred data times the components
  Tensor components;             // [k, D] f32, orthonormal rows, by decreasing variance
  std::vector<double> variance;  // [k] explained variance (eigenvalues, divisor N−1)
  Tensor mean;                   // [D]
};

// Deterministic: the start basis comes from Philox(seed); each component's sign is fixed so
// its largest-magnitude coordinate is positive. Stops when no basis vector moves by more than `tol`
// (Euclidean).
PcaResult pca(const Tensor& x, int64_t components = 2, int max_iterations = 500, double tol = 1e-10,
              uint64_t seed = 0);

}  // namespace chorus::align
