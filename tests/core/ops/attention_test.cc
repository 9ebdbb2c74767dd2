// scaled_dot_product_attention: the tiled kernels against a naive softmax(q·kᵀ·scale + mask)·v
// written with loops (forward and backward), gradient checks, masks, layouts and memory.
#include "core/ops/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/autograd/node.h"
#include "core/tensor/allocator.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

struct Case {
  int64_t b, h, lq, lk, d, dv;
  bool causal = false;
  std::vector<uint8_t> pad;  // [b, lk] or empty
};

Tensor mask_of(const Case& c) {
  if (c.pad.empty()) return Tensor();
  return Tensor::from_vector(std::vector<bool>(c.pad.begin(), c.pad.end()), {c.b, c.lk});
}

// Every `period`-th key padded, and all keys of the last batch entry from `tail` on.
std::vector<uint8_t> some_padding(int64_t b, int64_t lk, int64_t period, int64_t tail) {
  std::vector<uint8_t> pad(static_cast<size_t>(b * lk), 0);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < lk; ++j) pad[i * lk + j] = (j % period == period - 1);
  for (int64_t j = tail; j < lk; ++j) pad[(b - 1) * lk + j] = 1;
  return pad;
}

// Naive attention in double. Returns the output; fills `probs` ([b,h,lq,lk]) when given.
struct Naive {
  std::vector<double> out, probs;
};
Naive naive_attention(const Case& c, const Tensor& q, const Tensor& k, const Tensor& v,
                      double scale) {
  const auto vq = q.to_vector<double>(), vk = k.to_vector<double>(), vv = v.to_vector<double>();
  Naive n;
  n.out.assign(static_cast<size_t>(c.b * c.h * c.lq * c.dv), 0.0);
  n.probs.assign(static_cast<size_t>(c.b * c.h * c.lq * c.lk), 0.0);
  for (int64_t b = 0; b < c.b; ++b)
    for (int64_t h = 0; h < c.h; ++h)
      for (int64_t i = 0; i < c.lq; ++i) {
        const int64_t bh = b * c.h + h;
        std::vector<double> s(c.lk, -std::numeric_limits<double>::infinity());
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < c.lk; ++j) {
          if ((c.causal && j > i) || (!c.pad.empty() && c.pad[b * c.lk + j])) continue;
          double dot = 0;
          for (int64_t e = 0; e < c.d; ++e)
            dot += vq[(bh * c.lq + i) * c.d + e] * vk[(bh * c.lk + j) * c.d + e];
          s[j] = dot * scale;
          mx = std::max(mx, s[j]);
        }
        if (std::isinf(mx)) continue;  // no visible key: zero output (documented behaviour)
        double total = 0;
        for (double& x : s) total += (x = std::exp(x - mx));
        for (int64_t j = 0; j < c.lk; ++j) {
          const double p = s[j] / total;
          n.probs[(bh * c.lq + i) * c.lk + j] = p;
          for (int64_t e = 0; e < c.dv; ++e)
            n.out[(bh * c.lq + i) * c.dv + e] += p * vv[(bh * c.lk + j) * c.dv + e];
        }
      }
  return n;
}

AttentionOptions options_of(const Case& c) {
  AttentionOptions o;
  o.causal = c.causal;
  o.key_padding_mask = mask_of(c);
  return o;
}

void expect_forward_matches(const Case& c, DType dtype, double tol) {
  Tensor q = uniform({c.b, c.h, c.lq, c.d}, -1, 1, dtype, 1);
  Tensor k = uniform({c.b, c.h, c.lk, c.d}, -1, 1, dtype, 2);
  Tensor v = uniform({c.b, c.h, c.lk, c.dv}, -1, 1, dtype, 3);
  Tensor out = scaled_dot_product_attention(q, k, v, options_of(c));
  EXPECT_EQ(out.dtype(), dtype);
  const Naive ref = naive_attention(c, q, k, v, 1.0 / std::sqrt(double(c.d)));
  EXPECT_TRUE(AllClose(out, Tensor::from_doubles(ref.out, out.shape(), DType::kF64), tol, tol))
      << "lq " << c.lq << " lk " << c.lk << " causal " << c.causal << " pad " << !c.pad.empty();
}

TEST(Attention, ForwardMatchesNaive) {
  expect_forward_matches({2, 3, 37, 37, 24, 24}, DType::kF32, 1e-5);
  expect_forward_matches({2, 3, 37, 37, 24, 24, true}, DType::kF32, 1e-5);
  expect_forward_matches({2, 2, 37, 37, 24, 16, false, some_padding(2, 37, 5, 30)}, DType::kF32,
                         1e-5);
  expect_forward_matches({2, 2, 37, 37, 24, 16, true, some_padding(2, 37, 4, 20)}, DType::kF32,
                         1e-5);
  // Lq != Lk, both ways, with the causal mask top-left aligned.
  expect_forward_matches({1, 2, 19, 45, 8, 8, true}, DType::kF32, 1e-5);
  expect_forward_matches({1, 2, 45, 19, 8, 8, true}, DType::kF32, 1e-5);
  expect_forward_matches({1, 2, 45, 19, 8, 8, false, some_padding(1, 19, 3, 19)}, DType::kF32,
                         1e-5);
}

TEST(Attention, ForwardSpansManyTiles) {
  // Several query blocks (64) and key blocks (256), odd remainders.
  expect_forward_matches({1, 2, 150, 600, 16, 12}, DType::kF32, 2e-5);
  expect_forward_matches({1, 2, 150, 600, 16, 12, true, some_padding(1, 600, 7, 520)}, DType::kF32,
                         2e-5);
  expect_forward_matches({2, 1, 300, 270, 20, 20, false, some_padding(2, 270, 9, 260)}, DType::kF32,
                         2e-5);
  expect_forward_matches({1, 1, 70, 300, 5, 7, true}, DType::kF64, 1e-12);
}

TEST(Attention, ReducedPrecisionAndScale) {
  expect_forward_matches({1, 2, 33, 40, 16, 16, true}, DType::kBF16, 2e-2);
  expect_forward_matches({1, 2, 33, 40, 16, 16}, DType::kF16, 4e-3);
  Tensor q = uniform({1, 1, 5, 4}, -1, 1, DType::kF64, 4);
  Tensor k = uniform({1, 1, 6, 4}, -1, 1, DType::kF64, 5);
  Tensor v = uniform({1, 1, 6, 3}, -1, 1, DType::kF64, 6);
  AttentionOptions o;
  o.scale = 2.5;
  const Naive ref = naive_attention({1, 1, 5, 6, 4, 3}, q, k, v, 2.5);
  EXPECT_TRUE(AllClose(scaled_dot_product_attention(q, k, v, o),
                       Tensor::from_doubles(ref.out, {1, 1, 5, 3}, DType::kF64), 1e-12));
}

TEST(Attention, FullyMaskedRowsGiveZeros) {
  // Batch entry 1 has every key padded; with causal, rows 0..2 of entry 0 see only padding.
  Case c{2, 2, 6, 6, 4, 4, true, {1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1}};
  Tensor q = uniform({2, 2, 6, 4}, -1, 1, DType::kF64, 7).set_requires_grad();
  Tensor k = uniform({2, 2, 6, 4}, -1, 1, DType::kF64, 8).set_requires_grad();
  Tensor v = uniform({2, 2, 6, 4}, -1, 1, DType::kF64, 9).set_requires_grad();
  Tensor out = scaled_dot_product_attention(q, k, v, options_of(c));
  const Naive ref = naive_attention(c, q.detach(), k.detach(), v.detach(), 0.5);
  EXPECT_TRUE(AllClose(out, Tensor::from_doubles(ref.out, out.shape(), DType::kF64), 1e-12));
  const auto vo = out.to_vector<double>();
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t e = 0; e < 4; ++e) EXPECT_EQ(vo[(h * 6 + i) * 4 + e], 0.0);
  out.backward(Tensor::ones(out.shape(), DType::kF64));
  for (const Tensor& g : {q.grad(), k.grad(), v.grad()}) {
    for (double x : g.to_vector<double>()) ASSERT_FALSE(std::isnan(x));
  }
  // No gradient reaches the fully masked queries, nor any padded key.
  const auto gq = q.grad().to_vector<double>(), gk = k.grad().to_vector<double>();
  for (int64_t i = 0; i < 2 * 6 * 4; ++i) EXPECT_EQ(gq[2 * 6 * 4 + i], 0.0);  // batch 1
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t e = 0; e < 4; ++e) EXPECT_EQ(gk[(h * 6 + j) * 4 + e], 0.0);
}

TEST(Attention, ReadsPermutedLayoutsInPlace) {
  // Projections laid out [B, L, H, D], viewed as [B, H, L, D].
  Tensor q = uniform({2, 9, 3, 8}, -1, 1, DType::kF32, 10);
  Tensor k = uniform({2, 11, 3, 8}, -1, 1, DType::kF32, 11);
  Tensor v = uniform({2, 11, 3, 8}, -1, 1, DType::kF32, 12);
  const std::vector<int64_t> perm{0, 2, 1, 3};
  Tensor a = scaled_dot_product_attention(q.permute(perm), k.permute(perm), v.permute(perm));
  Tensor b = scaled_dot_product_attention(
      q.permute(perm).contiguous(), k.permute(perm).contiguous(), v.permute(perm).contiguous());
  EXPECT_TRUE(AllClose(a, b, 0, 0));
}

// Naive backward in double from the naive probabilities.
struct NaiveGrads {
  std::vector<double> dq, dk, dv;
};
NaiveGrads naive_backward(const Case& c, const Tensor& q, const Tensor& k, const Tensor& v,
                          const Tensor& dout, double scale) {
  const Naive fwd = naive_attention(c, q, k, v, scale);
  const auto vq = q.to_vector<double>(), vk = k.to_vector<double>(), vv = v.to_vector<double>(),
             go = dout.to_vector<double>();
  NaiveGrads g;
  g.dq.assign(vq.size(), 0.0);
  g.dk.assign(vk.size(), 0.0);
  g.dv.assign(vv.size(), 0.0);
  for (int64_t bh = 0; bh < c.b * c.h; ++bh)
    for (int64_t i = 0; i < c.lq; ++i) {
      const double* p = fwd.probs.data() + (bh * c.lq + i) * c.lk;
      const double* gout = go.data() + (bh * c.lq + i) * c.dv;
      std::vector<double> dp(c.lk, 0.0);
      double rowdot = 0;
      for (int64_t j = 0; j < c.lk; ++j) {
        for (int64_t e = 0; e < c.dv; ++e) {
          dp[j] += gout[e] * vv[(bh * c.lk + j) * c.dv + e];
          g.dv[(bh * c.lk + j) * c.dv + e] += p[j] * gout[e];
        }
        rowdot += p[j] * dp[j];
      }
      for (int64_t j = 0; j < c.lk; ++j) {
        const double ds = p[j] * (dp[j] - rowdot) * scale;
        for (int64_t e = 0; e < c.d; ++e) {
          g.dq[(bh * c.lq + i) * c.d + e] += ds * vk[(bh * c.lk + j) * c.d + e];
          g.dk[(bh * c.lk + j) * c.d + e] += ds * vq[(bh * c.lq + i) * c.d + e];
        }
      }
    }
  return g;
}

void expect_backward_matches(const Case& c, DType dtype, double tol) {
  Tensor q = uniform({c.b, c.h, c.lq, c.d}, -1, 1, dtype, 21).set_requires_grad();
  Tensor k = uniform({c.b, c.h, c.lk, c.d}, -1, 1, dtype, 22).set_requires_grad();
  Tensor v = uniform({c.b, c.h, c.lk, c.dv}, -1, 1, dtype, 23).set_requires_grad();
  Tensor dout = uniform({c.b, c.h, c.lq, c.dv}, -1, 1, dtype, 24);
  scaled_dot_product_attention(q, k, v, options_of(c)).backward(dout);
  const NaiveGrads ref =
      naive_backward(c, q.detach(), k.detach(), v.detach(), dout, 1.0 / std::sqrt(double(c.d)));
  EXPECT_TRUE(AllClose(q.grad(), Tensor::from_doubles(ref.dq, q.shape(), DType::kF64), tol, tol));
  EXPECT_TRUE(AllClose(k.grad(), Tensor::from_doubles(ref.dk, k.shape(), DType::kF64), tol, tol));
  EXPECT_TRUE(AllClose(v.grad(), Tensor::from_doubles(ref.dv, v.shape(), DType::kF64), tol, tol));
}

TEST(Attention, BackwardSpansManyTiles) {
  expect_backward_matches({1, 2, 150, 600, 16, 12}, DType::kF32, 5e-5);
  expect_backward_matches({2, 2, 150, 300, 16, 12, true, some_padding(2, 300, 7, 200)}, DType::kF32,
                          5e-5);
  expect_backward_matches({1, 3, 200, 90, 12, 8, true}, DType::kF64, 1e-11);
}

TEST(Attention, Gradcheck) {
  Tensor q = uniform({1, 2, 5, 3}, -1, 1, DType::kF64, 31);
  Tensor k = uniform({1, 2, 7, 3}, -1, 1, DType::kF64, 32);
  Tensor v = uniform({1, 2, 7, 4}, -1, 1, DType::kF64, 33);
  EXPECT_GRADCHECK([](const V& t) { return scaled_dot_product_attention(t[0], t[1], t[2]); },
                   {q, k, v});
  AttentionOptions causal;
  causal.causal = true;
  EXPECT_GRADCHECK(
      [&](const V& t) { return scaled_dot_product_attention(t[0], t[1], t[2], causal); },
      {q, k, v});
  // Padding, including a query row (row 0 under causal) that sees only padding.
  AttentionOptions padded;
  padded.causal = true;
  padded.key_padding_mask = Tensor::from_vector(std::vector<bool>{1, 0, 0, 1, 0, 0, 1}, {1, 7});
  EXPECT_GRADCHECK(
      [&](const V& t) { return scaled_dot_product_attention(t[0], t[1], t[2], padded); },
      {q, k, v});
  padded.causal = false;
  padded.scale = 0.7;
  EXPECT_GRADCHECK(
      [&](const V& t) { return scaled_dot_product_attention(t[0], t[1], t[2], padded); },
      {q, k, v});
}

TEST(Attention, MemoryStaysLinearInSequenceLength) {
  const int64_t l = 4096, d = 32;
  Tensor q = uniform({1, 1, l, d}, -1, 1, DType::kF32, 41).set_requires_grad();
  Tensor k = uniform({1, 1, l, d}, -1, 1, DType::kF32, 42).set_requires_grad();
  Tensor v = uniform({1, 1, l, d}, -1, 1, DType::kF32, 43).set_requires_grad();
  Tensor dout = uniform({1, 1, l, d}, -1, 1, DType::kF32, 44);
  Allocator& alloc = allocator_for(Device::cpu());
  alloc.reset_peak();
  const int64_t base = alloc.stats().current_bytes;
  Tensor out = scaled_dot_product_attention(q, k, v);
  out.backward(dout);
  const int64_t peak = alloc.stats().peak_bytes - base;
  const int64_t scores = l * l * 4;
  EXPECT_LT(peak, scores / 10) << "peak " << peak << " bytes, one score matrix " << scores;
  // Spot-check rows against the naive formula (one row costs O(L·D)).
  const auto vq = q.detach().to_vector<double>(), vk = k.detach().to_vector<double>(),
             vv = v.detach().to_vector<double>(), vo = out.detach().to_vector<double>();
  for (int64_t i : {int64_t{0}, int64_t{1234}, l - 1}) {
    std::vector<double> s(l);
    double mx = -1e300, total = 0;
    for (int64_t j = 0; j < l; ++j) {
      double dot = 0;
      for (int64_t e = 0; e < d; ++e) dot += vq[i * d + e] * vk[j * d + e];
      mx = std::max(mx, s[j] = dot / std::sqrt(double(d)));
    }
    for (double& x : s) total += (x = std::exp(x - mx));
    for (int64_t e = 0; e < d; ++e) {
      double o = 0;
      for (int64_t j = 0; j < l; ++j) o += s[j] / total * vv[j * d + e];
      EXPECT_NEAR(vo[i * d + e], o, 1e-5);
    }
  }
}

TEST(Attention, EmptyAndBadInputs) {
  // No keys at all: every row is fully masked.
  Tensor out = scaled_dot_product_attention(Tensor::ones({1, 1, 3, 4}), Tensor::ones({1, 1, 0, 4}),
                                            Tensor::ones({1, 1, 0, 2}));
  EXPECT_TRUE(AllClose(out, Tensor::zeros({1, 1, 3, 2}, DType::kF64)));
  Tensor q = Tensor::ones({1, 2, 3, 4});
  EXPECT_THROW(scaled_dot_product_attention(Tensor::ones({2, 3, 4}), q, q), Error);
  EXPECT_THROW(scaled_dot_product_attention(q, Tensor::ones({1, 2, 3, 5}), q), Error);
  EXPECT_THROW(scaled_dot_product_attention(q, q, Tensor::ones({1, 2, 4, 4})), Error);
  EXPECT_THROW(scaled_dot_product_attention(q, q, Tensor::ones({1, 2, 3, 4}, DType::kF64)), Error);
  AttentionOptions bad;
  bad.key_padding_mask = Tensor::zeros({1, 3});  // f32, not bool
  EXPECT_THROW(scaled_dot_product_attention(q, q, q, bad), Error);
  bad.key_padding_mask = Tensor::zeros({1, 4}, DType::kBool);  // wrong Lk
  EXPECT_THROW(scaled_dot_product_attention(q, q, q, bad), Error);
}

}  // namespace
}  // namespace chorus
