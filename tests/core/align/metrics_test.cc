// Evaluation metrics: Hungarian assignment against brute force, clustering ACC/NMI/ARI and
// zero-shot/retrieval/PCA against numpy (tests/fixtures/align_reference.json), k-means and the
// linear probe on data whose answer is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "align_test_util.h"
#include "core/align/cluster_metrics.h"
#include "core/align/kmeans.h"
#include "core/align/linear_probe.h"
#include "core/align/pca.h"
#include "core/align/retrieval_metrics.h"
#include "core/autograd/node.h"
#include "core/tensor/philox.h"
#include "test_util.h"

namespace chorus::align {
namespace {

using testing::align_fixture;
using testing::fixture_tensor;
using testing::json;

double u01(uint64_t seed, uint64_t i) { return uniform_from_word(philox_word(seed, 0, i)); }

TEST(Hungarian, MatchesBruteForceOnRandomMatrices) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const int64_t n = 1 + seed % 5, m = n + seed % 3;  // square and rectangular, up to 5 x 7
    std::vector<std::vector<double>> cost(n, std::vector<double>(m));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) cost[i][j] = std::round(u01(seed, i * m + j) * 20) - 5;
    const std::vector<int64_t> got = hungarian(cost);
    double got_cost = 0;
    std::vector<bool> used(m, false);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_GE(got[i], 0);
      ASSERT_FALSE(used[got[i]]) << "column assigned twice";
      used[got[i]] = true;
      got_cost += cost[i][got[i]];
    }
    // Brute force: every injective row -> column map, via permutations of the columns.
    std::vector<int64_t> perm(m);
    std::iota(perm.begin(), perm.end(), 0);
    double best = 1e300;
    do {
      double c = 0;
      for (int64_t i = 0; i < n; ++i) c += cost[i][perm[i]];
      best = std::min(best, c);
    } while (std::next_permutation(perm.begin(), perm.end()));
    EXPECT_DOUBLE_EQ(got_cost, best) << "seed " << seed << ", " << n << " x " << m;
  }
  EXPECT_THROW(hungarian({{1, 2}, {3, 4}, {5, 6}}), Error);  // more rows than columns
}

TEST(ClusterMetrics, MatchNumpyReference) {
  for (const json& c : align_fixture().at("clustering")) {
    const auto t = c.at("truth").get<std::vector<int64_t>>();
    const auto p = c.at("pred").get<std::vector<int64_t>>();
    EXPECT_NEAR(clustering_accuracy(t, p), c.at("acc").get<double>(), 1e-12);
    EXPECT_NEAR(normalized_mutual_info(t, p), c.at("nmi").get<double>(), 1e-12);
    EXPECT_NEAR(adjusted_rand_index(t, p), c.at("ari").get<double>(), 1e-12);
  }
}

TEST(ClusterMetrics, PermutedLabelsScorePerfectly) {
  const std::vector<int64_t> t = {0, 0, 1, 1, 2, 2, 2};
  const std::vector<int64_t> p = {5, 5, 3, 3, 9, 9, 9};  // renamed clusters
  EXPECT_DOUBLE_EQ(clustering_accuracy(t, p), 1.0);
  EXPECT_NEAR(normalized_mutual_info(t, p), 1.0, 1e-12);
  EXPECT_NEAR(adjusted_rand_index(t, p), 1.0, 1e-12);
  EXPECT_THROW(clustering_accuracy(t, {0, 1}), Error);
}

TEST(ZeroShot, MatchesNumpyReference) {
  const json& c = align_fixture().at("zero_shot");
  const Tensor classes = class_embeddings(fixture_tensor(c.at("prompts")),
                                          c.at("prompt_class").get<std::vector<int64_t>>(), 7);
  const ZeroShotResult r = zero_shot_accuracy(fixture_tensor(c.at("embeddings")),
                                              c.at("labels").get<std::vector<int64_t>>(), classes);
  EXPECT_NEAR(r.top1, c.at("top1").get<double>(), 1e-12);
  EXPECT_NEAR(r.top5, c.at("top5").get<double>(), 1e-12);
  EXPECT_EQ(r.count, 12);
  // Embeddings equal to their class prompt: every sample right.
  const ZeroShotResult self = zero_shot_accuracy(classes, {0, 1, 2, 3, 4, 5, 6}, classes);
  EXPECT_EQ(self.top1, 1.0);
  EXPECT_THROW(zero_shot_accuracy(classes, {0, 1, 2, 3, 4, 5, 7}, classes), Error);
  EXPECT_THROW(class_embeddings(fixture_tensor(c.at("prompts")), std::vector<int64_t>(14, 0), 7),
               Error);  // classes without prompts
}

TEST(Retrieval, MatchesNumpyReference) {
  const json& c = align_fixture().at("retrieval");
  const RetrievalResult r = retrieval_recall(fixture_tensor(c.at("a")), fixture_tensor(c.at("b")));
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(r.a_to_b[k], c.at("a_to_b")[k].get<double>(), 1e-12);
    EXPECT_NEAR(r.b_to_a[k], c.at("b_to_a")[k].get<double>(), 1e-12);
  }
}

TEST(Pca, MatchesNumpyEigendecomposition) {
  const json& c = align_fixture().at("pca");
  const PcaResult r = pca(fixture_tensor(c.at("x"), DType::kF64), 2);
  const Tensor ref = fixture_tensor(c.at("projection"), DType::kF64);
  for (int j = 0; j < 2; ++j) {
    EXPECT_NEAR(r.variance[j], c.at("variance")[j].get<double>(),
                1e-6 * c.at("variance")[j].get<double>());
    // Components are defined up to sign: compare after aligning it.
    const auto got = r.projection.select(1, j).to_vector<double>();
    const auto want = ref.select(1, j).to_vector<double>();
    const double sign = std::inner_product(got.begin(), got.end(), want.begin(), 0.0) < 0 ? -1 : 1;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(sign * got[i], want[i], 1e-4);
  }
}

// Points around well-separated centres, shuffled; returns [N, D] and the true centre ids.
std::pair<Tensor, std::vector<int64_t>> blobs(int64_t per, int64_t k, int64_t d, double spread,
                                              uint64_t seed) {
  std::vector<double> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < per * k; ++i) {
    const int64_t c = (i * 7) % k;
    y.push_back(c);
    for (int64_t j = 0; j < d; ++j) {
      const double centre = (j == c % d ? 10.0 : 0.0) + (j == (c + 1) % d ? 10.0 * (c / d) : 0.0);
      x.push_back(centre + spread * (u01(seed, i * d + j) - 0.5));
    }
  }
  return {Tensor::from_doubles(x, {per * k, d}, DType::kF32), y};
}

TEST(KMeans, RecoversSeparatedBlobsDeterministically) {
  const auto [x, y] = blobs(30, 5, 4, 2.0, 3);
  KMeansOptions o;
  o.k = 5;
  o.seed = 42;
  const KMeansResult a = kmeans(x, o);
  EXPECT_DOUBLE_EQ(clustering_accuracy(y, a.assignments), 1.0);
  EXPECT_LE(a.iterations, 20);
  // Same seed, same clustering; the inertia is the sum of squared distances it reports.
  const KMeansResult b = kmeans(x, o);
  EXPECT_EQ(a.assignments, b.assignments);
  const auto xv = x.to_vector<double>(), cv = a.centroids.to_vector<double>();
  double inertia = 0;
  for (int64_t i = 0; i < 150; ++i)
    for (int64_t j = 0; j < 4; ++j)
      inertia += std::pow(xv[i * 4 + j] - cv[a.assignments[i] * 4 + j], 2);
  EXPECT_NEAR(a.inertia, inertia, 1e-3 * inertia);
  o.k = 0;
  EXPECT_THROW(kmeans(x, o), Error);
  o.k = 151;
  EXPECT_THROW(kmeans(x, o), Error);
}

TEST(LinearProbe, LearnsSeparableClassesDeterministically) {
  const auto [train, ytr] = blobs(40, 3, 5, 8.0, 5);  // overlapping a little
  const auto [test, yte] = blobs(20, 3, 5, 8.0, 6);
  LinearProbeOptions o;
  o.epochs = 15;
  o.batch_size = 32;
  o.lr = 0.05;
  const LinearProbeResult a = linear_probe(train, ytr, test, yte, 3, o);
  EXPECT_GE(a.test_accuracy, 0.95);
  EXPECT_GE(a.train_accuracy, 0.95);
  ASSERT_EQ(a.epoch_loss.size(), 15u);
  EXPECT_LT(a.epoch_loss.back(), 0.5 * a.epoch_loss.front());
  const LinearProbeResult b = linear_probe(train, ytr, test, yte, 3, o);
  EXPECT_EQ(a.epoch_loss, b.epoch_loss);                           // bit-identical rerun
  EXPECT_THROW(linear_probe(train, ytr, test, yte, 2, o), Error);  // label 2 out of range
}

// Evaluation calls the probe with gradients off (inside NoGradGuard); the probe trains anyway,
// with the same result, and leaves the caller's mode as it was.
TEST(LinearProbe, TrainsUnderTheCallersNoGradGuard) {
  const auto [train, ytr] = blobs(40, 3, 5, 8.0, 5);
  const auto [test, yte] = blobs(20, 3, 5, 8.0, 6);
  LinearProbeOptions o;
  o.epochs = 3;
  const LinearProbeResult a = linear_probe(train, ytr, test, yte, 3, o);
  autograd::NoGradGuard no_grad;
  const LinearProbeResult b = linear_probe(train, ytr, test, yte, 3, o);
  EXPECT_FALSE(autograd::grad_enabled());
  EXPECT_EQ(a.epoch_loss, b.epoch_loss);
  EXPECT_EQ(a.test_accuracy, b.test_accuracy);
}

}  // namespace
}  // namespace chorus::align
