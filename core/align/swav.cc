#include "core/align/swav.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/align/normalize.h"
#include "core/autograd/node.h"
#include "core/nn/init.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"

namespace chorus::align {

Prototypes::Prototypes(int64_t dim, int64_t num_prototypes, Generator& gen, DType dtype)
    : Module("Prototypes") {
  CHORUS_CHECK(dim > 0 && num_prototypes >= 2, "Prototypes: need dim > 0 and at least 2 ",
               "prototypes, got dim ", dim, ", K ", num_prototypes);
  weight =
      register_parameter("weight", nn::init::normal({num_prototypes, dim}, 0.0, 1.0, gen, dtype));
}

Tensor Prototypes::forward(const Tensor& z) const {
  return matmul(l2_normalize(z), l2_normalize(weight).t());
}

Tensor sinkhorn_knopp(const Tensor& scores, double epsilon, int iterations) {
  CHORUS_CHECK(scores.dim() == 2 && scores.numel() > 0,
               "sinkhorn_knopp: expected scores [B, K], got ", shape_str(scores.shape()));
  CHORUS_CHECK(epsilon > 0 && iterations >= 0,
               "sinkhorn_knopp: need ε > 0 and iterations >= 0, got ", epsilon, " and ",
               iterations);
  const int64_t b = scores.size(0), k = scores.size(1);
  std::vector<double> s = scores.detach().to_vector<double>();
  for (double v : s) CHORUS_CHECK(std::isfinite(v), "sinkhorn_knopp: scores contain ", v);
  const double top = *std::max_element(s.begin(), s.end());
  // q[i*k + j]: sample i, prototype j (the transpose of SwAV's K x B layout).
  std::vector<double> q(s.size());
  double total = 0;
  for (size_t i = 0; i < s.size(); ++i) total += q[i] = std::exp((s[i] - top) / epsilon);
  for (double& v : q) v /= total;
  std::vector<double> acc;
  for (int it = 0; it < iterations; ++it) {
    acc.assign(static_cast<size_t>(k), 0.0);  // every prototype gets mass 1/K
    for (int64_t i = 0; i < b; ++i)
      for (int64_t j = 0; j < k; ++j) acc[j] += q[i * k + j];
    for (int64_t i = 0; i < b; ++i)
      for (int64_t j = 0; j < k; ++j) q[i * k + j] /= acc[j] * static_cast<double>(k);
    for (int64_t i = 0; i < b; ++i) {  // every sample gets mass 1/B
      double row = 0;
      for (int64_t j = 0; j < k; ++j) row += q[i * k + j];
      for (int64_t j = 0; j < k; ++j) q[i * k + j] /= row * static_cast<double>(b);
    }
  }
  for (double& v : q) v *= static_cast<double>(b);
  return Tensor::from_doubles(q, {b, k}, scores.dtype());
}

SwavLoss swav_loss(const Tensor& scores_a, const Tensor& scores_b, const SwavOptions& options) {
  CHORUS_CHECK(scores_a.dim() == 2 && scores_a.shape() == scores_b.shape(),
               "swav_loss: expected two [B, K] score matrices of equal shape, got ",
               shape_str(scores_a.shape()), " and ", shape_str(scores_b.shape()));
  CHORUS_CHECK(options.temperature > 0, "swav_loss: temperature must be positive");
  SwavLoss out;
  out.codes_a = sinkhorn_knopp(scores_a, options.epsilon, options.iterations);
  out.codes_b = sinkhorn_knopp(scores_b, options.epsilon, options.iterations);
  const double inv_b = 1.0 / static_cast<double>(scores_a.size(0));
  auto predict = [&](const Tensor& codes, const Tensor& scores) {  // mean_i Σ_k q log p
    return mul(sum(mul(codes, log_softmax(mul(scores, 1.0 / options.temperature), 1))), inv_b);
  };
  out.loss = mul(add(predict(out.codes_b, scores_a), predict(out.codes_a, scores_b)), -0.5);
  return out;
}

}  // namespace chorus::align
