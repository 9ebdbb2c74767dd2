// Parity of scaled_dot_product_attention on CUDA (cuDNN's fused kernels, the short-sequence
// kernels of attention_small.cu, or the warp-per-row fallback) against the CPU kernels, forward
// and gradients: causal and key-padding masks (as suffixes, which cuDNN takes, scattered, and a
// batch entry whose keys are all padding), head dims 64/128 and odd ones, permuted layouts,
// every float dtype.
#include "core/ops/attention.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

struct Case {
  int64_t b, h, lq, lk, d;
  bool causal;
  int padding;     // 0: none, 1: suffix per batch entry, 2: scattered, 3: entry 0 all padding
  int64_t dv = 0;  // value head dim; 0: the same as d
};

Tensor padding_mask(int64_t b, int64_t lk, int kind) {
  std::vector<uint8_t> m(b * lk, 0);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < lk; ++j) {
      m[i * lk + j] = kind == 1   ? j >= lk - 5 * (i + 1)
                      : kind == 3 ? i == 0
                                  : (j % 3 == 1 && j > 0);
    }
  }
  Tensor t = Tensor::zeros({b, lk}, DType::kBool);
  std::copy(m.begin(), m.end(), static_cast<uint8_t*>(t.raw_data()));
  return t;
}

void check(const Case& c, DType dt, uint64_t seed) {
  const Tensor q = rand({c.b, c.h, c.lq, c.d}, dt, seed),
               k = rand({c.b, c.h, c.lk, c.d}, dt, seed + 1),
               v = rand({c.b, c.h, c.lk, c.dv > 0 ? c.dv : c.d}, dt, seed + 2);
  std::vector<Tensor> in = {q, k, v};
  if (c.padding) in.push_back(padding_mask(c.b, c.lk, c.padding));
  const bool causal = c.causal;
  check_op("scaled_dot_product_attention", dt, in,
           [causal](const std::vector<Tensor>& t) {
             AttentionOptions o;
             o.causal = causal;
             if (t.size() > 3) o.key_padding_mask = t[3];
             return scaled_dot_product_attention(t[0], t[1], t[2], o);
           },
           {true, true, true, false});
}

TEST(CudaParity, AttentionFusedShapes) {
  CHORUS_REQUIRE_GPU();
  uint64_t seed = 1;
  for (DType dt : {DType::kBF16, DType::kF16}) {
    check({2, 2, 64, 64, 64, true, 0}, dt, seed += 10);
    check({1, 3, 77, 77, 128, false, 0}, dt, seed += 10);
    check({2, 2, 50, 90, 128, true, 0}, dt, seed += 10);
    check({2, 2, 64, 96, 64, false, 1}, dt, seed += 10);  // suffix padding: key lengths
  }
}

TEST(CudaParity, AttentionFallbackShapes) {
  CHORUS_REQUIRE_GPU();
  uint64_t seed = 100;
  check({2, 2, 33, 47, 40, true, 0}, DType::kF32, seed += 10);    // f32: exact kernels
  check({2, 2, 33, 47, 36, false, 0}, DType::kBF16, seed += 10);  // head dim not a multiple of 8
  check({2, 2, 40, 40, 64, true, 2}, DType::kBF16, seed += 10);   // scattered padding
  check({1, 2, 9, 11, 8, true, 1}, DType::kF64, seed += 10);      // f64: CPU kernels
  // The short-sequence kernels at their limits (Lq, Lk, head dims 64) and with rows that see
  // no key (zero output and gradients, +inf log-sum-exp).
  check({2, 3, 64, 64, 64, true, 2}, DType::kF32, seed += 10);
  check({2, 2, 5, 61, 32, false, 3}, DType::kF16, seed += 10);
  check({3, 1, 64, 7, 24, true, 3}, DType::kF32, seed += 10);
  // Past them: the warp-per-row kernels (a sequence over 64, a head dim over 64).
  check({2, 2, 100, 90, 40, true, 2}, DType::kF32, seed += 10);
  check({1, 2, 20, 30, 96, false, 3}, DType::kBF16, seed += 10);
  // Value head dims that differ from the key's, on both paths.
  check({2, 2, 30, 40, 32, false, 2, 48}, DType::kF32, seed += 10);
  check({1, 2, 70, 50, 40, true, 0, 24}, DType::kF32, seed += 10);
}

TEST(CudaParity, AttentionPermutedLayout) {
  CHORUS_REQUIRE_GPU();
  // [B, L, H, D] projections viewed as [B, H, L, D]: read in place, no copy.
  const Tensor q = rand({2, 48, 4, 64}, DType::kBF16, 300),
               k = rand({2, 48, 4, 64}, DType::kBF16, 301),
               v = rand({2, 48, 4, 64}, DType::kBF16, 302);
  check_op(
      "scaled_dot_product_attention", DType::kBF16, {q, k, v}, [](const std::vector<Tensor>& t) {
        AttentionOptions o;
        o.causal = true;
        return scaled_dot_product_attention(t[0].permute({0, 2, 1, 3}), t[1].permute({0, 2, 1, 3}),
                                            t[2].permute({0, 2, 1, 3}), o);
      });
}

}  // namespace
}  // namespace chorus::parity
