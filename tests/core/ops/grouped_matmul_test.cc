// grouped_matmul: forward against a naive per-row loop, gradients against finite differences
// and against the per-group formulas, empty groups, both scheduling paths, dtypes and misuse.
#include "core/ops/grouped_matmul.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;

Tensor offsets_of(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> o{0};
  for (int64_t s : sizes) o.push_back(o.back() + s);
  return Tensor::from_vector(o, {static_cast<int64_t>(o.size())});
}

// out[r, :] = x[r, :] · w[e(r)] with e(r) found by scanning the offsets: the reference.
Tensor naive_grouped(const Tensor& x, const Tensor& w, const Tensor& offsets) {
  const int64_t t = x.size(0), d = x.size(1), f = w.size(2), groups = w.size(0);
  const auto vx = x.to_vector<double>(), vw = w.to_vector<double>();
  const auto vo = offsets.to_vector<int64_t>();
  std::vector<double> out(static_cast<size_t>(t * f), 0.0);
  for (int64_t e = 0; e < groups; ++e) {
    for (int64_t r = vo[e]; r < vo[e + 1]; ++r) {
      for (int64_t j = 0; j < f; ++j) {
        double acc = 0;
        for (int64_t i = 0; i < d; ++i) acc += vx[r * d + i] * vw[(e * d + i) * f + j];
        out[r * f + j] = acc;
      }
    }
  }
  return Tensor::from_doubles(out, {t, f}, DType::kF64);
}

TEST(GroupedMatmul, ForwardMatchesNaiveLoopWithEmptyGroups) {
  // Empty groups first, in the middle and last; odd sizes.
  const Tensor offsets = offsets_of({0, 3, 0, 1, 5, 0});
  Tensor x = uniform({9, 7}, -1, 1, DType::kF64, 1);
  Tensor w = uniform({6, 7, 5}, -1, 1, DType::kF64, 2);
  EXPECT_TRUE(AllClose(grouped_matmul(x, w, offsets), naive_grouped(x, w, offsets), 1e-12, 1e-12));
  Tensor out32 = grouped_matmul(x.to(DType::kF32), w.to(DType::kF32), offsets);
  EXPECT_EQ(out32.dtype(), DType::kF32);
  EXPECT_TRUE(AllClose(out32, naive_grouped(x, w, offsets), 1e-5, 1e-5));
}

TEST(GroupedMatmul, LargeAndSmallGroupsTogether) {
  // One group above the single-thread GEMM threshold (120·64·48 multiply-adds) among many
  // small ones, so both scheduling paths run in one call.
  std::vector<int64_t> sizes{2, 120, 1, 0, 3, 5, 1, 4};
  const Tensor offsets = offsets_of(sizes);
  Tensor x = uniform({136, 64}, -1, 1, DType::kF32, 3);
  Tensor w = uniform({8, 64, 48}, -1, 1, DType::kF32, 4);
  x.set_requires_grad();
  w.set_requires_grad();
  Tensor out = grouped_matmul(x, w, offsets);
  EXPECT_TRUE(AllClose(out, naive_grouped(x, w, offsets), 1e-4, 1e-4));
  Tensor g = uniform({136, 48}, -1, 1, DType::kF32, 5);
  out.backward(g);
  // dx_e = g_e · w_eᵀ and dw_e = x_eᵀ · g_e, written as another grouped product and a loop.
  const auto vo = offsets.to_vector<int64_t>();
  Tensor wt = w.detach().transpose(1, 2).contiguous();
  EXPECT_TRUE(AllClose(x.grad(), naive_grouped(g, wt, offsets), 1e-4, 1e-4));
  for (int64_t e = 0; e < 8; ++e) {
    Tensor xe = x.detach().slice(0, vo[e], vo[e + 1]), ge = g.slice(0, vo[e], vo[e + 1]);
    Tensor expect = vo[e + 1] > vo[e]
                        ? naive_grouped(xe.t().contiguous(), ge.unsqueeze(0), offsets_of({64}))
                        : Tensor::zeros({64, 48}, DType::kF64);
    EXPECT_TRUE(AllClose(w.grad().select(0, e), expect, 1e-4, 1e-4)) << "group " << e;
  }
}

TEST(GroupedMatmul, Gradcheck) {
  const Tensor offsets = offsets_of({2, 0, 3, 1});
  Tensor x = uniform({6, 3}, -1, 1, DType::kF64, 6);
  Tensor w = uniform({4, 3, 2}, -1, 1, DType::kF64, 7);
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) { return grouped_matmul(in[0], in[1], offsets); }, {x, w});
}

TEST(GroupedMatmul, EmptyGroupGetsZeroWeightGradient) {
  const Tensor offsets = offsets_of({2, 0, 1});
  Tensor x = uniform({3, 4}, -1, 1, DType::kF64, 8).set_requires_grad();
  Tensor w = uniform({3, 4, 2}, -1, 1, DType::kF64, 9).set_requires_grad();
  sum(grouped_matmul(x, w, offsets)).backward();
  EXPECT_TRUE(AllClose(w.grad().select(0, 1), Tensor::zeros({4, 2}, DType::kF64), 0, 0));
}

TEST(GroupedMatmul, NoRows) {
  const Tensor offsets = offsets_of({0, 0});
  Tensor x = Tensor::zeros({0, 3}, DType::kF64).set_requires_grad();
  Tensor w = uniform({2, 3, 4}).set_requires_grad();
  Tensor out = grouped_matmul(x, w, offsets);
  EXPECT_EQ(out.shape(), (Shape{0, 4}));
  sum(out).backward();
  EXPECT_TRUE(AllClose(w.grad(), Tensor::zeros({2, 3, 4}, DType::kF64), 0, 0));
}

TEST(GroupedMatmul, ReducedPrecisionComputesInF32) {
  const Tensor offsets = offsets_of({3, 2});
  Tensor x = uniform({5, 8}, -1, 1, DType::kBF16, 10);
  Tensor w = uniform({2, 8, 4}, -1, 1, DType::kBF16, 11);
  Tensor out = grouped_matmul(x, w, offsets);
  EXPECT_EQ(out.dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(out, naive_grouped(x, w, offsets), 2e-2, 1e-2));
}

TEST(GroupedMatmul, NonContiguousOperands) {
  const Tensor offsets = offsets_of({1, 3});
  Tensor x = uniform({5, 4}, -1, 1, DType::kF64, 12).t();                 // [4, 5] view
  Tensor w = uniform({2, 3, 5}, -1, 1, DType::kF64, 13).transpose(1, 2);  // [2, 5, 3] view
  EXPECT_TRUE(AllClose(grouped_matmul(x, w, offsets),
                       naive_grouped(x.contiguous(), w.contiguous(), offsets), 1e-12, 1e-12));
}

TEST(GroupedMatmul, RejectsMisuse) {
  Tensor x = uniform({4, 3});
  Tensor w = uniform({2, 3, 5});
  EXPECT_THROW(grouped_matmul(x, w, offsets_of({1, 2})), Error);  // sums to 3
  EXPECT_THROW(grouped_matmul(x, w, offsets_of({4})), Error);     // wrong length
  EXPECT_THROW(grouped_matmul(x, w, Tensor::from_vector<int64_t>({1, 2, 4}, {3})), Error);
  EXPECT_THROW(grouped_matmul(x, w, Tensor::from_vector<int64_t>({0, 3, 2}, {3})), Error);
  EXPECT_THROW(grouped_matmul(x, w, Tensor::from_vector<int32_t>({0, 2, 4}, {3})), Error);
  EXPECT_THROW(grouped_matmul(uniform({4, 2}), w, offsets_of({2, 2})), Error);    // d mismatch
  EXPECT_THROW(grouped_matmul(x.to(DType::kF32), w, offsets_of({2, 2})), Error);  // dtypes
  EXPECT_THROW(grouped_matmul(x, uniform({3, 5}), offsets_of({2, 2})), Error);    // w rank
}

}  // namespace
}  // namespace chorus
