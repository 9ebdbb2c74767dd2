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
  // Greedy k-means++ (scikit-learn's default): each step samples 2 + ⌊ln k⌋ candidates ∝ D(x)²
  // and keeps the one that lowers the potential most; plain k-means++ sometimes puts two seeds
  // in one blob, which Lloyd's iterations then cannot undo.
  const int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  std::vector<double> nearest =
      sq_distances(x, x_sq, std::vector<double>(centres.begin(), centres.begin() + d), 1, d);
  for (int64_t j = 1; j < k; ++j) {
    double total = 0;
    for (double v : nearest) total += v;
    std::vector<int64_t> cand(trials);
    for (int64_t t = 0; t < trials; ++t) {
      const double u = draw(static_cast<uint64_t>(1 + (j - 1) * trials + t));
      int64_t pick = std::min<int64_t>(n - 1, static_cast<int64_t>(u * n));
      if (total > 0) {
        double target = u * total, acc = 0;
        pick = n - 1;
        for (int64_t i = 0; i < n; ++i) {
          acc += nearest[i];
          if (acc > target) {
            pick = i;
            break;
          }
        }
      }
      cand[t] = pick;
    }
    std::vector<double> cc(static_cast<size_t>(trials * d));
    for (int64_t t = 0; t < trials; ++t)
      for (int64_t c = 0; c < d; ++c) cc[t * d + c] = xv[cand[t] * d + c];
    const std::vector<double> dist = sq_distances(x, x_sq, cc, trials, d);
    int64_t best = 0;
    double best_potential = std::numeric_limits<double>::infinity();
    for (int64_t t = 0; t < trials; ++t) {
      double potential = 0;
      for (int64_t i = 0; i < n; ++i) potential += std::min(nearest[i], dist[i * trials + t]);
      if (potential < best_potential) best_potential = potential, best = t;
    }
    for (int64_t i = 0; i < n; ++i) nearest[i] = std::min(nearest[i], dist[i * trials + best]);
    set_centre(j, cand[best]);
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
