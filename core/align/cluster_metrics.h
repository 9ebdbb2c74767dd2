// Clustering quality against ground-truth classes: accuracy under the best one-to-one mapping
// of clusters to classes (Hungarian algorithm), normalised mutual information and the adjusted
// Rand index (the definitions scikit-learn uses).
#pragma once

#include <cstdint>
#include <vector>

namespace chorus::align {

// Minimum-cost assignment for a cost matrix with rows <= columns (Kuhn–Munkres with
// potentials, O(n²m)): result[r] is the column of row r, every row gets a distinct column.
std::vector<int64_t> hungarian(const std::vector<std::vector<double>>& cost);

// ACC = max over one-to-one maps g of (1/N) Σ_i [truth_i = g(pred_i)]. Labels are
// non-negative ints; cluster and class counts may differ.
double clustering_accuracy(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred);

// NMI with the arithmetic mean of the entropies (sklearn's default):
// I(U;V) / ((H(U) + H(V)) / 2); 1 when both labelings are a single cluster.
double normalized_mutual_info(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred);

// ARI (Hubert & Arabie 1985): (Σ_ij C(n_ij,2) − E) / (½(Σ_i C(a_i,2) + Σ_j C(b_j,2)) − E),
// E = Σ_i C(a_i,2) Σ_j C(b_j,2) / C(N,2); 1 for identical partitions.
double adjusted_rand_index(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred);

}  // namespace chorus::align
