#include "core/align/retrieval_metrics.h"

#include "core/align/normalize.h"
#include "core/autograd/node.h"
#include "core/ops/matmul.h"

namespace chorus::align {

namespace {

std::vector<double> cosine_scores(const Tensor& a, const Tensor& b) {
  autograd::NoGradGuard no_grad;
  return matmul(l2_normalize(a.to(DType::kF32)), l2_normalize(b.to(DType::kF32)).t())
      .to_vector<double>();
}

}  // namespace

Tensor class_embeddings(const Tensor& prompts, const std::vector<int64_t>& prompt_class,
                        int64_t num_classes) {
  CHORUS_CHECK(prompts.dim() == 2 && prompts.size(0) == static_cast<int64_t>(prompt_class.size()),
               "class_embeddings: prompts ", shape_str(prompts.shape()), " need one class each (",
               prompt_class.size(), " given)");
  autograd::NoGradGuard no_grad;
  const int64_t d = prompts.size(1);
  const std::vector<double> p = l2_normalize(prompts.to(DType::kF64)).to_vector<double>();
  std::vector<double> sum(static_cast<size_t>(num_classes * d), 0.0);
  std::vector<int64_t> count(static_cast<size_t>(num_classes), 0);
  for (size_t i = 0; i < prompt_class.size(); ++i) {
    const int64_t c = prompt_class[i];
    CHORUS_CHECK(c >= 0 && c < num_classes, "class_embeddings: prompt ", i, " has class ", c,
                 ", outside [0, ", num_classes, ")");
    ++count[c];
    for (int64_t j = 0; j < d; ++j) sum[c * d + j] += p[i * d + j];
  }
  for (int64_t c = 0; c < num_classes; ++c) {
    CHORUS_CHECK(count[c] > 0, "class_embeddings: class ", c, " has no prompt");
  }
  return l2_normalize(Tensor::from_doubles(sum, {num_classes, d}, DType::kF64)).to(DType::kF32);
}

ZeroShotResult zero_shot_accuracy(const Tensor& embeddings, const std::vector<int64_t>& labels,
                                  const Tensor& classes) {
  CHORUS_CHECK(embeddings.dim() == 2 && classes.dim() == 2 && embeddings.size(1) == classes.size(1),
               "zero_shot_accuracy: embeddings ", shape_str(embeddings.shape()),
               " and class embeddings ", shape_str(classes.shape()), " must be [N, D] and [C, D]");
  const int64_t n = embeddings.size(0), c = classes.size(0);
  CHORUS_CHECK(static_cast<int64_t>(labels.size()) == n, "zero_shot_accuracy: ", labels.size(),
               " labels for ", n, " embeddings");
  const std::vector<double> s = cosine_scores(embeddings, classes);
  ZeroShotResult r;
  r.count = n;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = labels[i];
    CHORUS_CHECK(y >= 0 && y < c, "zero_shot_accuracy: label ", y, " of sample ", i,
                 " is outside [0, ", c, ")");
    int64_t higher = 0;
    for (int64_t k = 0; k < c; ++k) higher += s[i * c + k] > s[i * c + y];
    r.top1 += higher < 1;
    r.top5 += higher < 5;
  }
  if (n > 0) r.top1 /= static_cast<double>(n), r.top5 /= static_cast<double>(n);
  return r;
}

RetrievalResult retrieval_recall(const Tensor& a, const Tensor& b) {
  CHORUS_CHECK(a.dim() == 2 && a.shape() == b.shape() && a.size(0) > 0,
               "retrieval_recall: expected matched embeddings [N, D] of equal shape, got ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  const int64_t n = a.size(0);
  const std::vector<double> s = cosine_scores(a, b);
  RetrievalResult r;
  constexpr int64_t kAt[3] = {1, 5, 10};
  for (int64_t i = 0; i < n; ++i) {
    int64_t rank_ab = 0, rank_ba = 0;
    for (int64_t j = 0; j < n; ++j) {
      rank_ab += s[i * n + j] > s[i * n + i];  // query a_i over candidates b_j
      rank_ba += s[j * n + i] > s[i * n + i];  // query b_i over candidates a_j
    }
    for (int k = 0; k < 3; ++k) {
      r.a_to_b[k] += rank_ab < kAt[k];
      r.b_to_a[k] += rank_ba < kAt[k];
    }
  }
  for (int k = 0; k < 3; ++k)
    r.a_to_b[k] /= static_cast<double>(n), r.b_to_a[k] /= static_cast<double>(n);
  return r;
}

}  // namespace chorus::align
