#include "core/align/cluster_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/tensor/error.h"

namespace chorus::align {

std::vector<int64_t> hungarian(const std::vector<std::vector<double>>& cost) {
  const int64_t n = static_cast<int64_t>(cost.size());
  if (n == 0) return {};
  const int64_t m = static_cast<int64_t>(cost[0].size());
  CHORUS_CHECK(n <= m, "hungarian: need rows <= columns, got ", n, " x ", m);
  for (const auto& row : cost) {
    CHORUS_CHECK(static_cast<int64_t>(row.size()) == m, "hungarian: ragged cost matrix");
  }
  // 1-based potentials u (rows), v (columns); p[j] = row matched to column j (0 = none).
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<int64_t> p(m + 1, 0), way(m + 1, 0);
  for (int64_t i = 1; i <= n; ++i) {
    p[0] = i;
    int64_t j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<char> used(m + 1, false);
    do {  // grow an alternating tree from row i until it reaches a free column
      used[j0] = true;
      const int64_t i0 = p[j0];
      double delta = inf;
      int64_t j1 = 0;
      for (int64_t j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (int64_t j = 0; j <= m; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {  // flip the augmenting path
      const int64_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> result(n, -1);
  for (int64_t j = 1; j <= m; ++j)
    if (p[j] != 0) result[p[j] - 1] = j - 1;
  return result;
}

namespace {

struct Contingency {
  std::vector<std::vector<double>> table;  // [truth class][pred cluster], dense re-indexed
  std::vector<double> rows, cols;
  double n = 0;
};

Contingency contingency(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred,
                        const char* who) {
  CHORUS_CHECK(truth.size() == pred.size() && !truth.empty(), who, ": need equally many (and ",
               "some) labels, got ", truth.size(), " and ", pred.size());
  std::map<int64_t, size_t> ti, pi;
  for (int64_t t : truth) ti.emplace(t, 0);
  for (int64_t p : pred) pi.emplace(p, 0);
  size_t k = 0;
  for (auto& [_, idx] : ti) idx = k++;
  k = 0;
  for (auto& [_, idx] : pi) idx = k++;
  Contingency c;
  c.table.assign(ti.size(), std::vector<double>(pi.size(), 0.0));
  c.rows.assign(ti.size(), 0.0);
  c.cols.assign(pi.size(), 0.0);
  for (size_t i = 0; i < truth.size(); ++i) {
    const size_t r = ti[truth[i]], col = pi[pred[i]];
    c.table[r][col] += 1;
    c.rows[r] += 1;
    c.cols[col] += 1;
  }
  c.n = static_cast<double>(truth.size());
  return c;
}

double entropy(const std::vector<double>& counts, double n) {
  double h = 0;
  for (double c : counts)
    if (c > 0) h -= c / n * std::log(c / n);
  return h;
}

double comb2(double x) { return x * (x - 1) / 2; }

}  // namespace

double clustering_accuracy(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  const Contingency c = contingency(truth, pred, "clustering_accuracy");
  // Square the table with zero rows/columns so every cluster can map to some class, then find
  // the cluster -> class map with the largest total count (minimum of the negated counts).
  const size_t k = std::max(c.rows.size(), c.cols.size());
  std::vector<std::vector<double>> cost(k, std::vector<double>(k, 0.0));
  for (size_t r = 0; r < c.rows.size(); ++r)
    for (size_t col = 0; col < c.cols.size(); ++col) cost[col][r] = -c.table[r][col];
  const std::vector<int64_t> match = hungarian(cost);
  double hit = 0;
  for (size_t col = 0; col < k; ++col) hit -= cost[col][match[col]];
  return hit / c.n;
}

double normalized_mutual_info(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  const Contingency c = contingency(truth, pred, "normalized_mutual_info");
  const double hu = entropy(c.rows, c.n), hv = entropy(c.cols, c.n);
  if (hu == 0 && hv == 0) return 1.0;  // both trivial: identical partitions
  double mi = 0;
  for (size_t r = 0; r < c.rows.size(); ++r) {
    for (size_t col = 0; col < c.cols.size(); ++col) {
      const double nij = c.table[r][col];
      if (nij > 0) mi += nij / c.n * std::log(nij * c.n / (c.rows[r] * c.cols[col]));
    }
  }
  return mi / ((hu + hv) / 2);
}

double adjusted_rand_index(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  const Contingency c = contingency(truth, pred, "adjusted_rand_index");
  double sum_ij = 0, sum_a = 0, sum_b = 0;
  for (const auto& row : c.table)
    for (double nij : row) sum_ij += comb2(nij);
  for (double a : c.rows) sum_a += comb2(a);
  for (double b : c.cols) sum_b += comb2(b);
  const double expected = sum_a * sum_b / comb2(c.n);
  const double max_index = (sum_a + sum_b) / 2;
  if (max_index == expected) return 1.0;  // sklearn's convention for degenerate partitions
  return (sum_ij - expected) / (max_index - expected);
}

}  // namespace chorus::align
