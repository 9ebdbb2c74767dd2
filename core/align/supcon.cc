#include "core/align/supcon.h"

#include "core/align/normalize.h"
#include "core/ops/elementwise.h"
#include "core/ops/join.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"

namespace chorus::align {

Tensor supcon_loss(const Tensor& z, const Tensor& labels, const SupConOptions& options,
                   const Tensor& anchors) {
  CHORUS_CHECK(z.dim() == 2, "supcon_loss: expected embeddings [N, D], got ", shape_str(z.shape()));
  const int64_t n = z.size(0);
  CHORUS_CHECK(labels.dim() == 1 && labels.size(0) == n, "supcon_loss: labels ",
               shape_str(labels.shape()), " must be [N] for embeddings ", shape_str(z.shape()));
  CHORUS_CHECK(options.temperature > 0, "supcon_loss: temperature must be positive, got ",
               options.temperature);
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  std::vector<double> is_anchor(static_cast<size_t>(n), 1.0);
  if (anchors.defined()) {
    CHORUS_CHECK(anchors.numel() == n, "supcon_loss: anchor mask has ", anchors.numel(),
                 " entries for ", n, " embeddings");
    is_anchor = anchors.to_vector<double>();
  }
  // The loss is −Σ_ij W[i,j]·log_prob[i,j] with W[i,j] = [j ∈ P(i)] / |P(i)| / #anchors: one
  // weighted sum instead of per-row gathers, and rows without positives drop out naturally.
  std::vector<double> w(static_cast<size_t>(n * n), 0.0);
  int64_t used = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (is_anchor[i] == 0.0) continue;
    int64_t count = 0;
    for (int64_t j = 0; j < n; ++j) count += (j != i && y[j] == y[i]);
    if (count == 0) continue;
    ++used;
    for (int64_t j = 0; j < n; ++j)
      if (j != i && y[j] == y[i]) w[i * n + j] = 1.0 / static_cast<double>(count);
  }
  CHORUS_CHECK(used > 0, "supcon_loss: no anchor has a positive (every label is unique among ", n,
               " embeddings)");
  for (double& v : w) v /= static_cast<double>(used);

  const Tensor zn = l2_normalize(z);
  const Tensor sim = mul(matmul(zn, zn.t()), 1.0 / options.temperature);
  const Tensor denom = logsumexp(
      add(sim, diagonal_mask(n, kMaskedLogit, sim.dtype(), sim.device())), {1}, /*keepdim=*/true);
  const Tensor log_prob = sub(sim, denom);
  return neg(sum(mul(log_prob, Tensor::from_doubles(w, {n, n}, sim.dtype()).to(sim.device()))));
}

Tensor supcon_with_prompts(const std::vector<Tensor>& embeddings, const std::vector<Tensor>& labels,
                           const Tensor& prompts, const Tensor& prompt_labels,
                           bool prompts_as_anchors, const SupConOptions& options) {
  CHORUS_CHECK(!embeddings.empty() && embeddings.size() == labels.size(),
               "supcon_with_prompts: need one label tensor per embedding tensor, got ",
               embeddings.size(), " and ", labels.size());
  std::vector<Tensor> zs = embeddings;
  std::vector<Tensor> ys;
  for (const Tensor& l : labels) ys.push_back(l.to(DType::kI64));
  int64_t samples = 0;
  for (const Tensor& e : embeddings) samples += e.size(0);
  int64_t total = samples;
  if (prompts.defined()) {
    CHORUS_CHECK(prompt_labels.defined() && prompt_labels.numel() == prompts.size(0),
                 "supcon_with_prompts: ", prompts.size(0), " prompts need as many prompt labels");
    zs.push_back(prompts);
    ys.push_back(prompt_labels.to(DType::kI64).reshape({-1}));
    total += prompts.size(0);
  }
  std::vector<uint8_t> anchor(static_cast<size_t>(total), 1);
  if (!prompts_as_anchors)
    for (int64_t i = samples; i < total; ++i) anchor[static_cast<size_t>(i)] = 0;
  return supcon_loss(concat(zs, 0), concat(ys, 0), options, Tensor::from_vector(anchor, {total}));
}

}  // namespace chorus::align
