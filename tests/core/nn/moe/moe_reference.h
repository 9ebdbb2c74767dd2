// An independent reference for the MoE layer: a per-token loop built from plain differentiable
// ops (matmul, select, softmax), with the top-k chosen by a full sort on the host. It shares
// no code with the layer's router, permutation or grouped matmul, so agreement in values and
// gradients checks all of them.
#pragma once

#include <algorithm>
#include <numeric>
#include <set>
#include <utility>
#include <vector>

#include "core/nn/moe/moe.h"
#include "core/ops/elementwise.h"
#include "core/ops/join.h"
#include "core/ops/matmul.h"
#include "core/ops/softmax.h"

namespace chorus::nn::moe::reference {

// One expert (or the dense shared network) on x [n, d] with weights [d, f], [f, d], [d, f].
inline Tensor reference_ffn(const Tensor& x, const Tensor& w1, const Tensor& w2, const Tensor& w3,
                            ExpertKind kind) {
  Tensor h = matmul(x, w1);
  h = kind == ExpertKind::kSwiGLU ? mul(silu(h), matmul(x, w3)) : gelu(h);
  return matmul(h, w2);
}

// y [T, d] for x [T, d]. `dropped` lists slots (t·k + j) to leave out, for capacity cases.
inline Tensor reference_moe(const MoeLayer& layer, const Tensor& x,
                            const std::set<int64_t>& dropped = {}) {
  const MoeConfig& c = layer.config();
  const int64_t tokens = x.size(0), e = c.num_experts, k = c.top_k;
  const Tensor logits = matmul(x, layer.router->weight.t());
  const Tensor scores = c.score == ScoreFunction::kSoftmax ? softmax(logits, -1) : sigmoid(logits);
  const std::vector<double> sv = scores.to_vector<double>();
  std::vector<double> bias(e, 0.0);
  if (layer.router->expert_bias.defined()) bias = layer.router->expert_bias.to_vector<double>();
  const GroupedExperts& ex = *layer.experts;
  std::vector<Tensor> rows;
  for (int64_t t = 0; t < tokens; ++t) {
    std::vector<int64_t> order(e);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return sv[t * e + a] + bias[a] > sv[t * e + b] + bias[b];
    });
    const Tensor st = scores.select(0, t);
    std::vector<Tensor> gate(k);
    Tensor total;
    for (int64_t j = 0; j < k; ++j) {
      gate[j] = st.select(0, order[j]);
      total = j == 0 ? gate[j] : add(total, gate[j]);
    }
    const Tensor xt = x.slice(0, t, t + 1);
    Tensor yt = mul(xt, 0.0);
    for (int64_t j = 0; j < k; ++j) {
      if (dropped.count(t * k + j)) continue;
      const int64_t ei = order[j];
      const Tensor g = c.renormalize ? div(gate[j], total) : gate[j];
      const Tensor w3 = ex.w3.defined() ? ex.w3.select(0, ei) : Tensor();
      yt = add(
          yt,
          mul(reference_ffn(xt, ex.w1.select(0, ei), ex.w2.select(0, ei), w3, c.expert_kind), g));
    }
    if (layer.shared) {
      const DenseFeedForward& s = *layer.shared;
      yt = add(yt, reference_ffn(xt, s.w1, s.w2, s.w3, c.expert_kind));
    }
    rows.push_back(yt);
  }
  return concat(rows, 0);
}

}  // namespace chorus::nn::moe::reference
