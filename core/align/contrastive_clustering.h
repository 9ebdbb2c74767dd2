// Cluster-wise alignment as in Contrastive Clustering (Li et al., AAAI 2021), with the two
// "views" being two modalities of the same samples.
//
// Instance level (τ_I = 0.5): NT-Xent over the 2B rows of [z_a; z_b]; row i's positive is its
// partner in the other modality, its negatives the other 2B−2 rows (cosine similarity).
// Cluster level (τ_C = 1.0): a cluster head maps each embedding to a K-way softmax, giving
// assignment matrices Y_a, Y_b [B, K]. Column k of Y_a (cluster k's "representation" over the
// batch) is contrasted with column k of Y_b against the other 2K−2 columns (NT-Xent over 2K),
// and the entropy of both views' cluster marginals P(y_k) = Σ_i Y[i,k] / B is subtracted,
//   L_cluster = L_contrast − H(Y),  H(Y) = −Σ_k [P(y_k^a) log P(y_k^a) + P(y_k^b) log P(y_k^b)],
// which keeps all clusters in use (the paper's sign; its code adds the constant 2 log K).
#pragma once

#include <memory>

#include "core/nn/linear.h"
#include "core/nn/module.h"
#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus::align {

// NT-Xent (SimCLR's normalised-temperature cross-entropy) between matched rows of u and v
// [N, D]: mean over the 2N anchors of −log softmax(sim/τ)[positive], self-similarity excluded.
Tensor nt_xent(const Tensor& u, const Tensor& v, double temperature);

// The K-way cluster head on the shared space: Linear(D, H) → ReLU → Linear(H, K) → softmax.
class ClusterHead : public nn::Module {
 public:
  ClusterHead(int64_t dim, int64_t num_clusters, Generator& gen, int64_t hidden = 0 /* = dim */,
              DType dtype = DType::kF32);
  Tensor logits(const Tensor& z) const;   // [B, K]
  Tensor forward(const Tensor& z) const;  // softmax(logits) [B, K]
  int64_t num_clusters() const { return fc2->out_features(); }

  std::shared_ptr<nn::Linear> fc1, fc2;
};

struct ContrastiveClusteringOptions {
  double instance_temperature = 0.5;  // τ_I
  double cluster_temperature = 1.0;   // τ_C
  double instance_weight = 1.0;       // 0 leaves the instance term out
  double entropy_weight = 1.0;        // scales H(Y) in L_cluster
};

struct ContrastiveClusteringLoss {
  Tensor total;     // instance_weight · instance + cluster
  Tensor instance;  // NT-Xent over rows (τ_I)
  Tensor contrast;  // NT-Xent over cluster columns (τ_C)
  Tensor entropy;   // H(Y), both views
  Tensor cluster;   // contrast − entropy_weight · entropy
};

// Entropy of the cluster marginal of an assignment matrix p [B, K] (rows sum to 1).
Tensor marginal_entropy(const Tensor& p);

// z_a, z_b: embeddings [B, D] of the two modalities; p_a, p_b: their cluster assignments
// [B, K] (ClusterHead::forward).
ContrastiveClusteringLoss contrastive_clustering_loss(
    const Tensor& z_a, const Tensor& z_b, const Tensor& p_a, const Tensor& p_b,
    const ContrastiveClusteringOptions& options = {});

}  // namespace chorus::align
