#include "core/nn/moe/balancing.h"

#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/operands.h"
#include "core/ops/reduce.h"

namespace chorus::nn::moe {

Tensor expert_counts(const Tensor& indices, int64_t num_experts) {
  CHORUS_CHECK(indices.defined() && is_integral(indices.dtype()),
               "expert_counts: indices must be an integer tensor");
  const Tensor idx = ops_internal::contiguous_raw(indices.to(Device::cpu()), DType::kI64);
  const int64_t* p = idx.data<int64_t>();
  std::vector<int64_t> count(num_experts, 0);
  for (int64_t i = 0; i < idx.numel(); ++i) {
    CHORUS_CHECK(p[i] >= 0 && p[i] < num_experts, "expert_counts: expert index ", p[i],
                 " is outside [0, ", num_experts, ")");
    ++count[p[i]];
  }
  return Tensor::from_vector(count, {num_experts});
}

Tensor sequence_balancing_loss(const Tensor& probs, const Tensor& indices, int64_t num_experts) {
  CHORUS_CHECK(probs.defined() && indices.defined() && probs.dim() == 3 && indices.dim() == 3 &&
                   probs.size(2) == num_experts && probs.size(0) == indices.size(0) &&
                   probs.size(1) == indices.size(1),
               "sequence_balancing_loss: expects probs [B, L, ", num_experts,
               "] and indices [B, L, k], got ", probs.defined() ? shape_str(probs.shape()) : "?",
               " and ", indices.defined() ? shape_str(indices.shape()) : "?");
  const int64_t b = probs.size(0), l = probs.size(1), k = indices.size(2);
  CHORUS_CHECK(b > 0 && l > 0, "sequence_balancing_loss: needs at least one token, got ",
               shape_str(probs.shape()));
  // f[b, i]: the fraction of sequence b's assignments routed to expert i (no gradient).
  std::vector<double> f(static_cast<size_t>(b * num_experts), 0.0);
  const Tensor idx = ops_internal::contiguous_raw(indices.to(Device::cpu()), DType::kI64);
  const int64_t* p = idx.data<int64_t>();
  const double share = 1.0 / static_cast<double>(l * k);
  for (int64_t s = 0; s < b; ++s) {
    for (int64_t a = 0; a < l * k; ++a) {
      const int64_t e = p[s * l * k + a];
      CHORUS_CHECK(e >= 0 && e < num_experts, "sequence_balancing_loss: expert index ", e,
                   " is outside [0, ", num_experts, ")");
      f[s * num_experts + e] += share;
    }
  }
  const Tensor fraction =
      Tensor::from_doubles(f, {b, num_experts}, probs.dtype()).to(probs.device());
  const Tensor mean_prob = mean(probs, {1});  // P[b, i]
  return mul(sum(mul(fraction, mean_prob)), static_cast<double>(num_experts) / b);
}

Tensor load_balancing_loss(const Tensor& probs, const Tensor& indices, int64_t num_experts) {
  CHORUS_CHECK(probs.defined() && indices.defined() && probs.dim() == 2 && indices.dim() == 2,
               "load_balancing_loss: expects probs [N, E] and indices [N, k]");
  return sequence_balancing_loss(probs.unsqueeze(0), indices.unsqueeze(0), num_experts);
}

Tensor router_z_loss(const Tensor& logits) {
  CHORUS_CHECK(logits.defined() && logits.dim() == 2 && logits.size(0) > 0,
               "router_z_loss: expects logits [N, E] with N > 0");
  return mean(square(logsumexp(logits, {1})));
}

}  // namespace chorus::nn::moe
