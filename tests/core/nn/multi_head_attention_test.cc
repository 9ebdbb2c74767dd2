// MultiHeadAttention against a naive per-head loop (GQA, causal, key padding, RoPE), against
// PyTorch 1.13 (tools/fixtures/rope_attention.py), gradient checks, configuration errors.
#include "core/nn/multi_head_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using nlohmann::json;
using testing::AllClose;
using testing::ModuleGradcheck;
using testing::uniform;

constexpr DType kF64 = DType::kF64;

struct Case {
  int64_t b, l, dim, heads, kv_heads;
  bool causal, rope;
  std::vector<uint8_t> pad;  // [b, l] or empty
  int64_t offset = 0;
};

Tensor mask_of(const Case& s) {
  if (s.pad.empty()) return Tensor();
  return Tensor::from_vector(std::vector<bool>(s.pad.begin(), s.pad.end()), {s.b, s.l});
}

// Row-major [rows, out] = x [rows, in] · w [out, in]ᵀ.
std::vector<double> project(const std::vector<double>& x, int64_t rows, const Tensor& w) {
  const int64_t out = w.size(0), in = w.size(1);
  const auto vw = w.to_vector<double>();
  std::vector<double> y(static_cast<size_t>(rows * out), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) y[r * out + o] += x[r * in + i] * vw[o * in + i];
  return y;
}

// Attention one head at a time, written from the definition: query head h reads kv head
// h / (H / Hkv); positions offset + l rotate q and k pairs (i, i + hd/2).
Tensor naive_mha(const Case& s, const MultiHeadAttention& m, const Tensor& x) {
  const int64_t hd = m.head_dim(), H = s.heads, Hk = s.kv_heads, rows = s.b * s.l;
  const auto vx = x.to_vector<double>();
  auto q = project(vx, rows, m.q->weight), k = project(vx, rows, m.k->weight),
       v = project(vx, rows, m.v->weight);
  auto rotate = [&](std::vector<double>& t, int64_t heads) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < hd / 2; ++i) {
          const double angle =
              static_cast<double>(s.offset + r % s.l) / std::pow(10000.0, 2.0 * i / hd);
          double& a = t[(r * heads + h) * hd + i];
          double& b = t[(r * heads + h) * hd + i + hd / 2];
          const double a0 = a, b0 = b;
          a = a0 * std::cos(angle) - b0 * std::sin(angle);
          b = b0 * std::cos(angle) + a0 * std::sin(angle);
        }
  };
  if (s.rope) {
    rotate(q, H);
    rotate(k, Hk);
  }
  std::vector<double> heads_out(static_cast<size_t>(rows * H * hd), 0.0);
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / (H / Hk);
      for (int64_t i = 0; i < s.l; ++i) {
        std::vector<double> w(s.l, 0.0);
        double mx = -std::numeric_limits<double>::infinity();
        std::vector<bool> visible(s.l);
        for (int64_t j = 0; j < s.l; ++j) {
          visible[j] = !(s.causal && j > i) && (s.pad.empty() || !s.pad[b * s.l + j]);
          if (!visible[j]) continue;
          double dot = 0;
          for (int64_t e = 0; e < hd; ++e)
            dot += q[((b * s.l + i) * H + h) * hd + e] * k[((b * s.l + j) * Hk + g) * hd + e];
          w[j] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, w[j]);
        }
        double total = 0;
        for (int64_t j = 0; j < s.l; ++j) total += visible[j] ? (w[j] = std::exp(w[j] - mx)) : 0;
        for (int64_t j = 0; j < s.l; ++j) {
          if (!visible[j]) continue;
          for (int64_t e = 0; e < hd; ++e)
            heads_out[((b * s.l + i) * H + h) * hd + e] +=
                w[j] / total * v[((b * s.l + j) * Hk + g) * hd + e];
        }
      }
    }
  return testing::from(project(heads_out, rows, m.o->weight), {s.b, s.l, s.dim});
}

MultiHeadAttention make(const Case& s, Generator& gen, bool bias = false) {
  AttentionConfig c;
  c.dim = s.dim;
  c.n_heads = s.heads;
  c.n_kv_heads = s.kv_heads;
  c.causal = s.causal;
  c.rope = s.rope;
  c.bias = bias;
  c.dtype = kF64;
  return MultiHeadAttention(c, gen);
}

TEST(MultiHeadAttentionTest, MatchesNaivePerHeadLoop) {
  const std::vector<Case> cases = {
      {2, 5, 8, 2, 2, false, false, {}},
      {2, 5, 8, 2, 2, true, false, {}},
      {2, 6, 16, 4, 2, true, true, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1}},  // GQA, r = 2
      {1, 7, 8, 4, 1, false, true, {0, 1, 0, 0, 1, 0, 0}},                 // multi-query
      {3, 4, 12, 6, 3, true, true, {}, 9},                                 // RoPE offset
      {2, 3, 6, 3, 3, false, false, {0, 0, 1, 1, 1, 1}},                   // a fully padded row
  };
  for (const Case& s : cases) {
    Generator gen(static_cast<uint64_t>(s.l * 10 + s.heads));
    MultiHeadAttention m = make(s, gen);
    ASSERT_EQ(m.n_kv_heads(), s.kv_heads);
    ForwardContext ctx;
    ctx.key_padding_mask = mask_of(s);
    ctx.position_offset = s.offset;
    const Tensor x = uniform({s.b, s.l, s.dim}, -1, 1, kF64, 5);
    EXPECT_TRUE(AllClose(m.forward(x, ctx), naive_mha(s, m, x), 1e-11, 1e-9))
        << "b" << s.b << " l" << s.l << " H" << s.heads << " Hkv" << s.kv_heads << " causal "
        << s.causal << " rope " << s.rope;
  }
}

TEST(MultiHeadAttentionTest, ExplicitPositionsEqualOffset) {
  const Case s{2, 4, 8, 2, 1, true, true, {}};
  Generator gen(3);
  MultiHeadAttention m = make(s, gen);
  const Tensor x = uniform({2, 4, 8});
  ForwardContext by_offset, by_positions;
  by_offset.position_offset = 6;
  by_positions.positions = Tensor::arange(6, 10);
  EXPECT_TRUE(AllClose(m.forward(x, by_offset), m.forward(x, by_positions), 1e-14, 0));
  // Without RoPE, positions do not matter.
  const Case plain{2, 4, 8, 2, 1, true, false, {}};
  Generator g2(3);
  MultiHeadAttention n = make(plain, g2);
  EXPECT_TRUE(AllClose(n.forward(x, by_offset), n.forward(x), 0, 0));
}

TEST(MultiHeadAttentionTest, Gradcheck) {
  // GQA + causal + padding + RoPE + biases: every path at once, tiny and in f64.
  const Case s{2, 3, 8, 4, 2, true, true, {0, 0, 0, 0, 0, 1}};
  Generator gen(4);
  MultiHeadAttention m = make(s, gen, /*bias=*/true);
  ForwardContext ctx;
  ctx.key_padding_mask = mask_of(s);
  const Tensor x = uniform({2, 3, 8}).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(m, [&] { return m.forward(x, ctx); }, {x}));
}

TEST(MultiHeadAttentionTest, HeadDimAndErrors) {
  Generator gen(5);
  AttentionConfig c;
  c.dim = 6;
  c.n_heads = 4;
  EXPECT_THROW(MultiHeadAttention(c, gen), Error);  // 6 / 4 heads
  c.head_dim = 2;
  MultiHeadAttention m(c, gen);
  EXPECT_EQ(m.q->weight.shape(), (Shape{8, 6}));
  EXPECT_EQ(m.o->weight.shape(), (Shape{6, 8}));
  EXPECT_EQ(m.forward(uniform({1, 3, 6}, -1, 1, DType::kF32)).shape(), (Shape{1, 3, 6}));
  EXPECT_THROW(m.forward(uniform({1, 3, 5}, -1, 1, DType::kF32)), Error);
  EXPECT_THROW(m.forward(uniform({3, 6}, -1, 1, DType::kF32)), Error);
  c.n_kv_heads = 3;  // does not divide 4
  EXPECT_THROW(MultiHeadAttention(c, gen), Error);
  c.n_kv_heads = 2;
  c.head_dim = 3;
  c.rope = true;  // odd head dim
  EXPECT_THROW(MultiHeadAttention(c, gen), Error);
}

TEST(MultiHeadAttentionTest, MatchesPyTorch) {
  std::ifstream in(std::string(CHORUS_FIXTURE_DIR) + "/rope_attention.json");
  ASSERT_TRUE(in.good())
      << "missing fixture: run /usr/bin/python3 tools/fixtures/rope_attention.py";
  const json data = json::parse(in);
  ASSERT_EQ(data.at("attention").size(), 4u);
  for (const json& c : data.at("attention")) {
    Case s{c.at("b").get<int64_t>(),          c.at("l").get<int64_t>(),
           c.at("dim").get<int64_t>(),        c.at("n_heads").get<int64_t>(),
           c.at("n_kv_heads").get<int64_t>(), c.at("causal").get<bool>(),
           c.at("rope").get<bool>(),          c.at("pad").get<std::vector<uint8_t>>()};
    Generator gen(1);
    MultiHeadAttention m = make(s, gen);
    auto load = [&](const Tensor& w, const char* key) {
      w.copy_(testing::from(c.at(key).get<std::vector<double>>(), w.shape()));
    };
    load(m.q->weight, "wq");
    load(m.k->weight, "wk");
    load(m.v->weight, "wv");
    load(m.o->weight, "wo");
    ForwardContext ctx;
    ctx.key_padding_mask = mask_of(s);
    const Shape xs = {s.b, s.l, s.dim};
    const Tensor x =
        testing::from(c.at("x").get<std::vector<double>>(), xs).set_requires_grad(true);
    const Tensor y = m.forward(x, ctx);
    EXPECT_TRUE(AllClose(y, testing::from(c.at("y").get<std::vector<double>>(), xs), 1e-12, 1e-9));
    y.backward(testing::from(c.at("grad_out").get<std::vector<double>>(), xs));
    EXPECT_TRUE(AllClose(x.grad(), testing::from(c.at("grad_x").get<std::vector<double>>(), xs),
                         1e-12, 1e-9));
    for (auto [w, key] : {std::pair{m.q->weight, "grad_wq"}, std::pair{m.k->weight, "grad_wk"},
                          std::pair{m.v->weight, "grad_wv"}, std::pair{m.o->weight, "grad_wo"}}) {
      EXPECT_TRUE(AllClose(w.grad(), testing::from(c.at(key).get<std::vector<double>>(), w.shape()),
                           1e-12, 1e-9))
          << key;
    }
  }
}

}  // namespace
}  // namespace chorus::nn
