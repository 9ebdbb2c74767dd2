#include "core/align/kmeans.h"

#include <cmath>
#include <limits>

#include "core/autograd/node.h"
#include "core/ops/matmul.h"
#include "core/tensor/philox.h"

namespace chorus::align {

namespace {

// Squared distances [N, K] = |x|² − 2 x·c + |c|², clamped at 0 (rounding can dip below).
std::vector<double> sq_distances(const Tensor& x, const std::vector<double>& x_sq,
                                 const std::vector<double>& centres, int64_t k, int64_t d) {
  const Tensor c = Tensor::from_doubles(centres, {k, d}, DType::kF32);
  const std::vector<float> dots = matmul(x, c.t()).to_vector<float>();
  std::vector<double> c_sq(k, 0.0);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t t = 0; t < d; ++t) c_sq[j] += centres[j * d + t] * centres[j * d + t];
  const int64_t n = static_cast<int64_t>(x_sq.size());
  std::vector<double> out(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      out[i * k + j] = std::max(0.0, x_sq[i] - 2.0 * dots[i * k + j] + c_sq[j]);
  return out;
}

}  // namespace

KMeansResult kmeans(const Tensor& input, const KMeansOptions& options) {
  CHORUS_CHECK(input.dim() == 2, "kmeans: expected points [N, D], got ", shape_str(input.shape()));
  const int64_t n = input.size(0), d = input.size(1), k = options.k;
  CHORUS_CHECK(k >= 1 && k <= n, "kmeans: k = ", k, " must lie in [1, N = ", n, "]");
  autograd::NoGradGuard no_grad;
  const Tensor x = input.to(DType::kF32).contiguous();
  const std::vector<float> xv = x.to_vector<float>();
  std::vector<double> x_sq(n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < d; ++t) x_sq[i] += double(xv[i * d + t]) * xv[i * d + t];
  auto draw = [&](uint64_t j) {
    return static_cast<double>(uniform_from_word(philox_word(options.seed, 0, j)));
  };

  // k-means++ seeding.
  std::vector<double> centres(static_cast<size_t>(k * d));
  auto set_centre = [&](int64_t j, int64_t row) {
    for (int64_t t = 0; t < d; ++t) centres[j * d + t] = xv[row * d + t];
  };
  set_centre(0, std::min<int64_t>(n - 1, static_cast<int64_t>(draw(0) * n)));
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  for (int64_t j = 1; j < k; ++j) {
    // Distances to the newest centre only (one GEMM column); keep the running minimum.
    std::vector<double> newest(centres.begin() + (j - 1) * d, centres.begin() + j * d);
    const std::vector<double> dist = sq_distances(x, x_sq, newest, 1, d);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) total += nearest[i] = std::min(nearest[i], dist[i]);
    int64_t pick = n - 1;
    if (total > 0) {
      double target = draw(static_cast<uint64_t>(j)) * total, acc = 0;
      for (int64_t i = 0; i < n; ++i) {
        acc += nearest[i];
        if (acc > target) {
          pick = i;
          break;
        }
      }
    } else {
      pick = std::min<int64_t>(n - 1, static_cast<int64_t>(draw(static_cast<uint64_t>(j)) * n));
    }
    set_centre(j, pick);
  }

  KMeansResult r;
  r.assignments.assign(n, 0);
  double previous = std::numeric_limits<double>::infinity();
  for (int it = 0; it < std::max(1, options.max_iterations); ++it) {
    const std::vector<double> dist = sq_distances(x, x_sq, centres, k, d);
    r.inertia = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t best = 0;
      for (int64_t j = 1; j < k; ++j)
        if (dist[i * k + j] < dist[i * k + best]) best = j;
      r.assignments[i] = best;
      r.inertia += dist[i * k + best];
    }
    r.iterations = it + 1;
    const bool converged = previous - r.inertia <= options.tolerance * std::max(r.inertia, 1e-30);
    previous = r.inertia;
    // Update step: means of the members; an empty cluster takes the worst-served point.
    std::vector<double> sums(static_cast<size_t>(k * d), 0.0);
    std::vector<int64_t> count(k, 0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = r.assignments[i];
      ++count[c];
      for (int64_t t = 0; t < d; ++t) sums[c * d + t] += xv[i * d + t];
    }
    for (int64_t j = 0; j < k; ++j) {
      if (count[j] > 0) {
        for (int64_t t = 0; t < d; ++t) centres[j * d + t] = sums[j * d + t] / count[j];
        continue;
      }
      int64_t far = 0;
      for (int64_t i = 1; i < n; ++i)
        if (dist[i * k + r.assignments[i]] > dist[far * k + r.assignments[far]]) far = i;
      set_centre(j, far);
    }
    if (converged) break;
  }
  r.centroids = Tensor::from_doubles(centres, {k, d}, DType::kF32);
  return r;
}

}  // namespace chorus::align
