// Rotary position embedding: against the rotation formula written as loops, against PyTorch
// 1.13 (tools/fixtures/rope_attention.py), relative-position property, gradients, dtypes.
#include "core/nn/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/ops/matmul.h"
#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using nlohmann::json;
using testing::AllClose;
using testing::uniform;

constexpr DType kF64 = DType::kF64;

// out[b,h,l,i] per the formula in rope.h, positions pos[b][l].
Tensor naive_rope(const Tensor& x, const std::vector<std::vector<double>>& pos, double base) {
  const int64_t B = x.size(0), H = x.size(1), L = x.size(2), D = x.size(3), half = D / 2;
  const auto v = x.to_vector<double>();
  std::vector<double> out(v.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t l = 0; l < L; ++l) {
        const double p = pos[pos.size() == 1 ? 0 : b][l];
        const int64_t row = ((b * H + h) * L + l) * D;
        for (int64_t i = 0; i < half; ++i) {
          const double angle = p / std::pow(base, 2.0 * i / D);
          const double x1 = v[row + i], x2 = v[row + i + half];
          out[row + i] = x1 * std::cos(angle) - x2 * std::sin(angle);
          out[row + i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
        }
      }
  return testing::from(out, x.shape());
}

std::vector<double> range(int64_t from, int64_t n) {
  std::vector<double> r;
  for (int64_t i = 0; i < n; ++i) r.push_back(static_cast<double>(from + i));
  return r;
}

TEST(RopeTest, MatchesNaiveRotation) {
  const Tensor x = uniform({2, 3, 5, 8}, -2, 2);
  EXPECT_TRUE(AllClose(apply_rope(x), naive_rope(x, {range(0, 5)}, 10000), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(apply_rope(x, 17, 500.0), naive_rope(x, {range(17, 5)}, 500), 1e-12, 1e-12));
  const Tensor pos = Tensor::from_vector<int64_t>({4, 0, 2, 9, 1}, {5});
  EXPECT_TRUE(AllClose(apply_rope(x, pos), naive_rope(x, {{4, 0, 2, 9, 1}}, 10000), 1e-12, 1e-12));
  const Tensor bpos = Tensor::from_vector<int32_t>({0, 1, 2, 3, 4, 7, 7, 3, 2, 100}, {2, 5});
  EXPECT_TRUE(AllClose(apply_rope(x, bpos),
                       naive_rope(x, {{0, 1, 2, 3, 4}, {7, 7, 3, 2, 100}}, 10000), 1e-12, 1e-12));
}

TEST(RopeTest, ReadsPermutedViews) {
  // [B, L, H, D] memory viewed as [B, H, L, D], as attention produces it.
  const Tensor raw = uniform({2, 4, 3, 6});
  const Tensor x = raw.permute({0, 2, 1, 3});
  EXPECT_TRUE(
      AllClose(apply_rope(x, 3), naive_rope(x.contiguous(), {range(3, 4)}, 10000), 1e-12, 1e-12));
}

TEST(RopeTest, ScoresDependOnlyOnRelativePosition) {
  // q·k after rotation at positions (m, n) equals that at (m + s, n + s).
  const Tensor q = uniform({1, 1, 1, 8}, -1, 1, kF64, 1), k = uniform({1, 1, 1, 8}, -1, 1, kF64, 2);
  auto score = [&](int64_t m, int64_t n) {
    return sum(mul(apply_rope(q, m), apply_rope(k, n))).item();
  };
  EXPECT_NEAR(score(3, 1), score(103, 101), 1e-10);
  EXPECT_NEAR(score(0, 5), score(40, 45), 1e-10);
  EXPECT_GT(std::fabs(score(3, 1) - score(1, 3)), 1e-6);  // but not symmetric in (m, n)
}

TEST(RopeTest, Gradcheck) {
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return apply_rope(in[0], 2, 100.0); },
                   {uniform({2, 2, 3, 4})});
  const Tensor bpos = Tensor::from_vector<int64_t>({0, 5, 2, 1, 1, 8}, {2, 3});
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return apply_rope(in[0], bpos); },
                   {uniform({2, 1, 3, 6})});
}

TEST(RopeTest, ReducedPrecisionComputesInF32) {
  const Tensor x = uniform({1, 2, 4, 8}, -2, 2, DType::kF32);
  const Tensor y32 = apply_rope(x, 5);
  EXPECT_EQ(y32.dtype(), DType::kF32);
  EXPECT_TRUE(AllClose(y32, naive_rope(x, {range(5, 4)}, 10000), 1e-6, 1e-6));
  const Tensor xb = x.to(DType::kBF16);
  const Tensor yb = apply_rope(xb, 5);
  EXPECT_EQ(yb.dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(yb, naive_rope(xb, {range(5, 4)}, 10000), 0.02, 1.0 / 128));
}

TEST(RopeTest, Errors) {
  EXPECT_THROW(apply_rope(uniform({2, 3, 4})), Error);         // not 4-D
  EXPECT_THROW(apply_rope(uniform({1, 1, 2, 5})), Error);      // odd head dim
  EXPECT_THROW(apply_rope(uniform({1, 1, 2, 4}), -1), Error);  // negative offset
  EXPECT_THROW(apply_rope(uniform({1, 1, 2, 4}), Tensor::zeros({3}, DType::kI64)), Error);
  EXPECT_THROW(apply_rope(uniform({2, 1, 2, 4}), Tensor::zeros({3, 2}, DType::kI64)), Error);
  EXPECT_THROW(apply_rope(uniform({1, 1, 2, 4}), Tensor::zeros({2})), Error);  // float positions
  EXPECT_EQ(apply_rope(uniform({1, 2, 0, 4})).shape(), (Shape{1, 2, 0, 4}));
}

const json& fixture() {
  static const json data = [] {
    std::ifstream in(std::string(CHORUS_FIXTURE_DIR) + "/rope_attention.json");
    EXPECT_TRUE(in.good())
        << "missing fixture: run /usr/bin/python3 tools/fixtures/rope_attention.py";
    return json::parse(in);
  }();
  return data;
}

TEST(RopeTest, MatchesPyTorch) {
  const json& cases = fixture().at("rope");
  ASSERT_EQ(cases.size(), 5u);
  for (const json& c : cases) {
    const Shape shape = c.at("shape").get<Shape>();
    const double base = c.at("base").get<double>();
    const Tensor x =
        testing::from(c.at("x").get<std::vector<double>>(), shape).set_requires_grad(true);
    Tensor y;
    if (c.at("offset").is_null()) {
      std::vector<int64_t> flat;  // [L] or [B, L] nested lists, flattened row-major
      for (const json& e : c.at("positions")) {
        if (e.is_array()) {
          for (const json& v : e) flat.push_back(v.get<int64_t>());
        } else {
          flat.push_back(e.get<int64_t>());
        }
      }
      const Tensor pos = Tensor::from_vector<int64_t>(flat, c.at("positions_shape").get<Shape>());
      y = apply_rope(x, pos, base);
    } else {
      y = apply_rope(x, c.at("offset").get<int64_t>(), base);
    }
    EXPECT_TRUE(
        AllClose(y, testing::from(c.at("y").get<std::vector<double>>(), shape), 1e-12, 1e-10))
        << c.dump().substr(0, 80);
    y.backward(testing::from(c.at("grad_out").get<std::vector<double>>(), shape));
    EXPECT_TRUE(AllClose(x.grad(), testing::from(c.at("grad_x").get<std::vector<double>>(), shape),
                         1e-12, 1e-10));
  }
}

}  // namespace
}  // namespace chorus::nn
