// k-means (Lloyd's algorithm) with k-means++ seeding drawn from a Philox stream, so a clustering
// is a pure function of (data, k, seed). Used for the clustering ACC / NMI / ARI metrics.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::align {

struct KMeansOptions {
  int64_t k = 10;
  int max_iterations = 100;
  double tolerance = 1e-6;  // stop when inertia improves by less than this fraction
  uint64_t seed = 0;
};

struct KMeansResult {
  std::vector<int64_t> assignments;  // [N], cluster of each row
  Tensor centroids;                  // [K, D] f32
  double inertia = 0;                // Σ squared distance to the assigned centroid
  int iterations = 0;
};

// x [N, D] (any float dtype; computed in f32 with GEMM distances, accumulated in f64).
// Seeding: greedy k-means++ (Arthur & Vassilvitskii 2007; scikit-learn's default): the first
// centre is row ⌊u₀N⌋; each next one is the best (lowest potential) of 2 + ⌊ln k⌋ candidates
// drawn with probability ∝ D(x)², draws u_j from the Philox stream (seed, 0). A cluster left
// empty takes the point farthest from its centre. Throws chorus::Error if k < 1 or k > N.
KMeansResult kmeans(const Tensor& x, const KMeansOptions& options);

}  // namespace chorus::align
