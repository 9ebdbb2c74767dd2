// Attention on the GPU (core/ops/cuda/dnn: the fused cuDNN SDPA graph and the warp-per-row
// fallback) against a double-precision reference: outputs, log-sum-exp and the three gradients,
// with causal and key-padding masks, odd lengths and head dims, and permuted layouts.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>

#include "core/ops/cuda/dnn/attention_fallback.h"
#include "core/ops/cuda/dnn/sdpa.h"
#include "tests/cuda/vendor/device_data.h"

namespace chorus::cuda::test {
namespace {

struct Shape {
  int64_t b, h, sq, skv, d, dv;
};

struct Ref {
  std::vector<double> o, lse, dq, dk, dv;
};

// Logical dense [b, h, l, x] arrays; pad[b * skv + j] != 0 hides key j of batch b.
Ref reference(const Shape& s, const std::vector<float>& q, const std::vector<float>& k,
              const std::vector<float>& v, const std::vector<float>& dout, double scale,
              bool causal, const std::vector<uint8_t>& pad) {
  Ref r;
  r.o.assign(s.b * s.h * s.sq * s.dv, 0.0);
  r.lse.assign(s.b * s.h * s.sq, std::numeric_limits<double>::infinity());
  r.dq.assign(s.b * s.h * s.sq * s.d, 0.0);
  r.dk.assign(s.b * s.h * s.skv * s.d, 0.0);
  r.dv.assign(s.b * s.h * s.skv * s.dv, 0.0);
  std::vector<double> p(s.skv), dp(s.skv);
  for (int64_t b = 0; b < s.b; ++b) {
    for (int64_t h = 0; h < s.h; ++h) {
      const int64_t bh = b * s.h + h;
      for (int64_t i = 0; i < s.sq; ++i) {
        const float* qi = &q[(bh * s.sq + i) * s.d];
        double mx = -INFINITY;
        std::vector<bool> vis(s.skv);
        for (int64_t j = 0; j < s.skv; ++j) {
          vis[j] = !(causal && j > i) && !(pad.size() && pad[b * s.skv + j]);
          if (!vis[j]) continue;
          double dot = 0;
          for (int64_t c = 0; c < s.d; ++c) dot += double(qi[c]) * k[(bh * s.skv + j) * s.d + c];
          p[j] = dot * scale;
          mx = std::max(mx, p[j]);
        }
        if (mx == -INFINITY) continue;  // sees no key: zeros, lse +inf, zero gradients
        double sum = 0;
        for (int64_t j = 0; j < s.skv; ++j) sum += vis[j] ? std::exp(p[j] - mx) : 0.0;
        r.lse[bh * s.sq + i] = mx + std::log(sum);
        for (int64_t j = 0; j < s.skv; ++j) p[j] = vis[j] ? std::exp(p[j] - mx) / sum : 0.0;
        double* oi = &r.o[(bh * s.sq + i) * s.dv];
        for (int64_t j = 0; j < s.skv; ++j) {
          for (int64_t c = 0; c < s.dv; ++c) oi[c] += p[j] * v[(bh * s.skv + j) * s.dv + c];
        }
        // backward
        const float* gi = &dout[(bh * s.sq + i) * s.dv];
        double di = 0;
        for (int64_t c = 0; c < s.dv; ++c) di += gi[c] * oi[c];
        for (int64_t j = 0; j < s.skv; ++j) {
          double t = 0;
          for (int64_t c = 0; c < s.dv; ++c) t += double(gi[c]) * v[(bh * s.skv + j) * s.dv + c];
          const double ds = p[j] * (t - di) * scale;
          for (int64_t c = 0; c < s.d; ++c) {
            r.dq[(bh * s.sq + i) * s.d + c] += ds * k[(bh * s.skv + j) * s.d + c];
            r.dk[(bh * s.skv + j) * s.d + c] += ds * qi[c];
          }
          for (int64_t c = 0; c < s.dv; ++c) r.dv[(bh * s.skv + j) * s.dv + c] += p[j] * gi[c];
        }
      }
    }
  }
  return r;
}

// A logical dense [b, h, l, x] array laid out with element strides st (dense overall).
std::vector<float> to_layout(const std::vector<float>& logical, int64_t b, int64_t h, int64_t l,
                             int64_t x, const std::array<int64_t, 4>& st) {
  std::vector<float> phys(logical.size());
  for (int64_t i0 = 0; i0 < b; ++i0)
    for (int64_t i1 = 0; i1 < h; ++i1)
      for (int64_t i2 = 0; i2 < l; ++i2)
        for (int64_t i3 = 0; i3 < x; ++i3)
          phys[i0 * st[0] + i1 * st[1] + i2 * st[2] + i3] =
              logical[((i0 * h + i1) * l + i2) * x + i3];
  return phys;
}

std::array<int64_t, 4> dense(int64_t h, int64_t l, int64_t x) { return {h * l * x, l * x, x, 1}; }
// [b, l, h, x] storage seen as [b, h, l, x] (projections split into heads without a copy)
std::array<int64_t, 4> bshd(int64_t h, int64_t l, int64_t x) { return {l * h * x, x, h * x, 1}; }

std::vector<double> finite_lse(const std::vector<double>& lse) {
  std::vector<double> out(lse);
  for (auto& x : out) {
    if (std::isinf(x)) x = 0;
  }
  return out;
}

struct Inputs {
  std::vector<float> q, k, v, dout;
};
Inputs make_inputs(const Shape& s, DType t, uint64_t seed) {
  return {random_values(s.b * s.h * s.sq * s.d, t, seed),
          random_values(s.b * s.h * s.skv * s.d, t, seed + 1),
          random_values(s.b * s.h * s.skv * s.dv, t, seed + 2),
          random_values(s.b * s.h * s.sq * s.dv, t, seed + 3)};
}

void check_fallback(const Shape& s, DType t, bool causal, std::vector<uint8_t> pad, uint64_t seed) {
  const Inputs in = make_inputs(s, t, seed);
  const double scale = 1.0 / std::sqrt(double(s.d));
  const Ref ref = reference(s, in.q, in.k, in.v, in.dout, scale, causal, pad);
  DeviceArray q(in.q, t), k(in.k, t), v(in.v, t), o(s.b * s.h * s.sq * s.dv, t),
      lse(s.b * s.h * s.sq, DType::kF32), dout(in.dout, t), dq(in.q.size(), t), dk(in.k.size(), t),
      dv(in.v.size(), t), scratch(s.b * s.h * s.skv * (s.d + s.dv), DType::kF32);
  uint8_t* dpad = nullptr;
  if (!pad.empty()) {
    ASSERT_EQ(cudaMalloc(&dpad, pad.size()), cudaSuccess);
    cudaMemcpy(dpad, pad.data(), pad.size(), cudaMemcpyHostToDevice);
  }
  dnn::FallbackAttention p{s.b, s.h, s.sq, s.skv, s.d, s.dv, t, float(scale), causal, dpad};
  auto rows = [&](const DeviceArray& a, int64_t l, int64_t x) {
    return dnn::AttentionRows{a.get(), s.h * l * x, l * x, x};
  };
  dnn::attention_forward_fallback(p, rows(q, s.sq, s.d), rows(k, s.skv, s.d), rows(v, s.skv, s.dv),
                                  o.get(), lse.as<float>(), nullptr);
  dnn::attention_backward_fallback(p, rows(q, s.sq, s.d), rows(k, s.skv, s.d), rows(v, s.skv, s.dv),
                                   rows(o, s.sq, s.dv), rows(dout, s.sq, s.dv), lse.as<float>(),
                                   dq.get(), dk.get(), dv.get(), scratch.as<float>(), nullptr);
  const double tol = t == DType::kF32 ? 2e-5 : 2e-2;
  EXPECT_LT(normalised_error(o.download(), ref.o), tol);
  auto lse_out = lse.download();
  for (size_t i = 0; i < lse_out.size(); ++i) {
    EXPECT_EQ(std::isinf(lse_out[i]), std::isinf(ref.lse[i])) << "row " << i;
    if (std::isinf(lse_out[i])) lse_out[i] = 0;
  }
  EXPECT_LT(normalised_error(lse_out, finite_lse(ref.lse)), 1e-5);
  EXPECT_LT(normalised_error(dq.download(), ref.dq), tol);
  EXPECT_LT(normalised_error(dk.download(), ref.dk), tol);
  EXPECT_LT(normalised_error(dv.download(), ref.dv), tol);
  cudaFree(dpad);
}

TEST(CudaAttentionFallback, F32OddShapesWithMasks) {
  std::vector<uint8_t> pad(2 * 45, 0);
  for (int j = 30; j < 45; ++j) pad[j] = 1;         // batch 0: a suffix padded
  for (int j = 0; j < 45; j += 3) pad[45 + j] = 1;  // batch 1: scattered padding
  pad[45] = 1;                                      // ... and key 0, so causal row 0 sees nothing
  check_fallback({2, 3, 37, 45, 40, 24}, DType::kF32, true, pad, 1);
  check_fallback({2, 3, 37, 45, 40, 24}, DType::kF32, false, pad, 2);
  check_fallback({1, 2, 19, 19, 200, 8}, DType::kF32, true, {}, 3);
}

TEST(CudaAttentionFallback, HalfTypes) {
  check_fallback({2, 2, 33, 47, 36, 36}, DType::kBF16, true, {}, 4);
  check_fallback({2, 2, 33, 47, 36, 36}, DType::kF16, false, {}, 5);
}

struct FusedCase {
  Shape s;
  DType t;
  bool causal;
  bool permuted = false;
  std::vector<int32_t> kv_lens;  // key padding as lengths (empty: none)
};

void check_fused(const FusedCase& c, uint64_t seed) {
  const Shape& s = c.s;
  const Inputs in = make_inputs(s, c.t, seed);
  const double scale = 1.0 / std::sqrt(double(s.d));
  std::vector<uint8_t> pad;
  if (!c.kv_lens.empty()) {
    pad.assign(s.b * s.skv, 0);
    for (int64_t b = 0; b < s.b; ++b) {
      for (int64_t j = c.kv_lens[b]; j < s.skv; ++j) pad[b * s.skv + j] = 1;
    }
  }
  const Ref ref = reference(s, in.q, in.k, in.v, in.dout, scale, c.causal, pad);
  dnn::SdpaProblem p;
  p.b = s.b, p.h = s.h, p.s_q = s.sq, p.s_kv = s.skv, p.d = s.d, p.d_v = s.dv;
  p.dtype = c.t;
  p.scale = float(scale);
  p.causal = c.causal;
  p.padding = !c.kv_lens.empty();
  auto lay = c.permuted ? bshd : dense;
  p.q = lay(s.h, s.sq, s.d), p.k = lay(s.h, s.skv, s.d), p.v = lay(s.h, s.skv, s.dv);
  p.o = dense(s.h, s.sq, s.dv), p.dout = lay(s.h, s.sq, s.dv);
  p.dq = dense(s.h, s.sq, s.d), p.dk = dense(s.h, s.skv, s.d), p.dv = dense(s.h, s.skv, s.dv);
  ASSERT_TRUE(dnn::sdpa_shape_supported(p));
  DeviceArray q(to_layout(in.q, s.b, s.h, s.sq, s.d, p.q), c.t),
      k(to_layout(in.k, s.b, s.h, s.skv, s.d, p.k), c.t),
      v(to_layout(in.v, s.b, s.h, s.skv, s.dv, p.v), c.t),
      dout(to_layout(in.dout, s.b, s.h, s.sq, s.dv, p.dout), c.t), o(ref.o.size(), c.t),
      stats(ref.lse.size(), DType::kF32), dq(ref.dq.size(), c.t), dk(ref.dk.size(), c.t),
      dv(ref.dv.size(), c.t);
  int32_t* lens = nullptr;
  if (p.padding) {  // [seq_len_q (all s_q) ..., seq_len_kv ...]
    std::vector<int32_t> host(s.b, int32_t(s.sq));
    host.insert(host.end(), c.kv_lens.begin(), c.kv_lens.end());
    ASSERT_EQ(cudaMalloc(&lens, host.size() * 4), cudaSuccess);
    cudaMemcpy(lens, host.data(), host.size() * 4, cudaMemcpyHostToDevice);
  }
  const int32_t* len_q = lens;
  const int32_t* len_kv = lens ? lens + s.b : nullptr;
  dnn::sdpa_forward(p, q.get(), k.get(), v.get(), o.get(), stats.as<float>(), len_q, len_kv,
                    nullptr);
  dnn::sdpa_backward(p, q.get(), k.get(), v.get(), o.get(), dout.get(), stats.as<float>(), dq.get(),
                     dk.get(), dv.get(), len_q, len_kv, nullptr);
  const double tol = c.t == DType::kF16 ? 5e-3 : 1.2e-2, grad_tol = 3e-2;
  const std::string what = std::string(dtype_name(c.t)) + (c.causal ? " causal" : "") +
                           (c.permuted ? " permuted" : "") + (p.padding ? " padded" : "");
  EXPECT_LT(normalised_error(o.download(), ref.o), tol) << what;
  EXPECT_LT(normalised_error(stats.download(), ref.lse), 1e-3) << what;
  EXPECT_LT(normalised_error(dq.download(), ref.dq), grad_tol) << what;
  EXPECT_LT(normalised_error(dk.download(), ref.dk), grad_tol) << what;
  EXPECT_LT(normalised_error(dv.download(), ref.dv), grad_tol) << what;
  cudaFree(lens);
}

TEST(CudaAttentionCudnn, Bf16HeadDims64And128) {
  check_fused({{2, 2, 128, 128, 64, 64}, DType::kBF16, false}, 10);
  check_fused({{2, 2, 128, 128, 64, 64}, DType::kBF16, true}, 11);
  check_fused({{1, 3, 96, 160, 128, 128}, DType::kBF16, false}, 12);
  check_fused({{1, 3, 160, 96, 128, 128}, DType::kBF16, true}, 13);
}

TEST(CudaAttentionCudnn, OddLengthsF16AndPermutedLayout) {
  check_fused({{2, 2, 77, 77, 128, 128}, DType::kBF16, true}, 20);
  check_fused({{2, 2, 70, 90, 64, 64}, DType::kF16, false}, 21);
  check_fused({{2, 4, 64, 64, 64, 64}, DType::kBF16, true, /*permuted=*/true}, 22);
}

TEST(CudaAttentionCudnn, KeyPaddingAsLengths) {
  check_fused({{2, 2, 64, 96, 64, 64}, DType::kBF16, false, false, {50, 96}}, 30);
  check_fused({{2, 2, 96, 96, 128, 128}, DType::kBF16, true, false, {33, 80}}, 31);
}

}  // namespace
}  // namespace chorus::cuda::test
