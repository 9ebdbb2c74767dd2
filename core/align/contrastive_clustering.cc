#include "core/align/contrastive_clustering.h"

#include <limits>
#include <vector>

#include "core/align/normalize.h"
#include "core/ops/elementwise.h"
#include "core/ops/join.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"

namespace chorus::align {

Tensor nt_xent(const Tensor& u, const Tensor& v, double temperature) {
  CHORUS_CHECK(u.dim() == 2 && u.shape() == v.shape(), "nt_xent: expected two [N, D] inputs of ",
               "equal shape, got ", shape_str(u.shape()), " and ", shape_str(v.shape()));
  CHORUS_CHECK(temperature > 0, "nt_xent: temperature must be positive, got ", temperature);
  const int64_t n = u.size(0);
  CHORUS_CHECK(n >= 1, "nt_xent: empty batch");
  const Tensor x = l2_normalize(concat({u, v}, 0));
  Tensor sim = mul(matmul(x, x.t()), 1.0 / temperature);
  sim = add(sim, diagonal_mask(2 * n, kMaskedLogit, sim.dtype(), sim.device()));
  std::vector<int64_t> target(static_cast<size_t>(2 * n));
  for (int64_t i = 0; i < 2 * n; ++i) target[static_cast<size_t>(i)] = (i + n) % (2 * n);
  return cross_entropy(sim, Tensor::from_vector(target, {2 * n}).to(sim.device()));
}

ClusterHead::ClusterHead(int64_t dim, int64_t num_clusters, Generator& gen, int64_t hidden,
                         DType dtype)
    : Module("ClusterHead") {
  CHORUS_CHECK(num_clusters >= 2, "ClusterHead: need at least 2 clusters, got ", num_clusters);
  const int64_t h = hidden > 0 ? hidden : dim;
  nn::LinearOptions o;
  o.dtype = dtype;
  fc1 = register_module("fc1", std::make_shared<nn::Linear>(dim, h, gen, o));
  fc2 = register_module("fc2", std::make_shared<nn::Linear>(h, num_clusters, gen, o));
}

Tensor ClusterHead::logits(const Tensor& z) const { return fc2->forward(relu(fc1->forward(z))); }

Tensor ClusterHead::forward(const Tensor& z) const { return softmax(logits(z), -1); }

Tensor marginal_entropy(const Tensor& p) {
  CHORUS_CHECK(p.dim() == 2, "marginal_entropy: expected assignments [B, K], got ",
               shape_str(p.shape()));
  Tensor m = sum(p, {0});
  m = div(m, sum(m));
  // Clamped inside the log only: a cluster nobody uses contributes 0·log(tiny) = 0.
  const Tensor logm = log(clamp(m, 1e-30, std::numeric_limits<double>::infinity()));
  return neg(sum(mul(m, logm)));
}

ContrastiveClusteringLoss contrastive_clustering_loss(const Tensor& z_a, const Tensor& z_b,
                                                      const Tensor& p_a, const Tensor& p_b,
                                                      const ContrastiveClusteringOptions& options) {
  CHORUS_CHECK(p_a.dim() == 2 && p_a.shape() == p_b.shape() && p_a.size(0) == z_a.size(0),
               "contrastive_clustering_loss: assignments ", shape_str(p_a.shape()), " and ",
               shape_str(p_b.shape()), " must both be [B, K] for embeddings ",
               shape_str(z_a.shape()));
  ContrastiveClusteringLoss out;
  out.instance = nt_xent(z_a, z_b, options.instance_temperature);
  // Columns: each cluster is a B-dim vector of its members' probabilities.
  out.contrast = nt_xent(p_a.t(), p_b.t(), options.cluster_temperature);
  out.entropy = add(marginal_entropy(p_a), marginal_entropy(p_b));
  out.cluster = sub(out.contrast, mul(out.entropy, options.entropy_weight));
  out.total = options.instance_weight == 0.0
                  ? out.cluster
                  : add(mul(out.instance, options.instance_weight), out.cluster);
  return out;
}

}  // namespace chorus::align
