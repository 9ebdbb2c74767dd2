// matmul / bmm / linear: forward against a naive triple loop, gradients against finite
// differences, and the strided, broadcast and low-precision paths.
#include "core/ops/matmul.h"

#include <gtest/gtest.h>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor/allocator.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// Reference product of >= 2-D tensors with NumPy-broadcast batch dims, in double, reading the
// operands element by element in logical order (so any view works).
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  const Shape ba(a.shape().begin(), a.shape().end() - 2),
      bb(b.shape().begin(), b.shape().end() - 2);
  const Shape bo = broadcast_shapes(ba, bb);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const int64_t batches = shape_numel(bo);
  std::vector<double> out(static_cast<size_t>(batches * m * n), 0.0);
  // Index of output batch `o` inside an operand batch shape (right-aligned, size 1 broadcasts).
  auto operand_batch = [&](const Shape& bs, int64_t o) {
    int64_t idx = 0, mul = 1;
    for (int64_t d = static_cast<int64_t>(bo.size()) - 1, e = static_cast<int64_t>(bs.size()) - 1;
         d >= 0; --d, --e) {
      const int64_t coord = o % bo[d];
      o /= bo[d];
      if (e >= 0) {
        if (bs[e] != 1) idx += coord * mul;
        mul *= bs[e];
      }
    }
    return idx;
  };
  for (int64_t o = 0; o < batches; ++o) {
    const double* pa = va.data() + operand_batch(ba, o) * m * k;
    const double* pb = vb.data() + operand_batch(bb, o) * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += pa[i * k + p] * pb[p * n + j];
        out[(o * m + i) * n + j] = s;
      }
  }
  Shape shape = bo;
  shape.push_back(m);
  shape.push_back(n);
  return Tensor::from_doubles(out, shape, DType::kF64);
}

TEST(Matmul, TwoDMatchesNaive) {
  Tensor a = uniform({5, 7}, -1, 1, DType::kF32, 1);
  Tensor b = uniform({7, 3}, -1, 1, DType::kF32, 2);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.dtype(), DType::kF32);
  EXPECT_TRUE(AllClose(c, naive_matmul(a, b), 1e-5, 1e-5));
}

TEST(Matmul, F64IsExact) {
  Tensor a = uniform({6, 9}, -1, 1, DType::kF64, 3);
  Tensor b = uniform({9, 4}, -1, 1, DType::kF64, 4);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.dtype(), DType::kF64);
  EXPECT_TRUE(AllClose(c, naive_matmul(a, b), 1e-13, 1e-13));
}

TEST(Matmul, BatchedBroadcast) {
  Tensor a = uniform({2, 1, 4, 5}, -1, 1, DType::kF32, 5);
  Tensor b = uniform({3, 5, 6}, -1, 1, DType::kF32, 6);
  Tensor c = matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 4, 6}));
  EXPECT_TRUE(AllClose(c, naive_matmul(a, b), 1e-5, 1e-5));
  // Batched · plain matrix (folded into one GEMM) and plain · batched.
  Tensor w = uniform({5, 3}, -1, 1, DType::kF32, 7);
  EXPECT_TRUE(AllClose(matmul(a, w), naive_matmul(a, w), 1e-5, 1e-5));
  Tensor left = uniform({4, 3}, -1, 1, DType::kF32, 8);
  Tensor right = uniform({2, 3, 5}, -1, 1, DType::kF32, 9);
  EXPECT_TRUE(AllClose(matmul(left, right), naive_matmul(left, right), 1e-5, 1e-5));
}

TEST(Matmul, TransposedAndStridedViews) {
  Tensor x = uniform({7, 5}, -1, 1, DType::kF32, 10);
  Tensor y = uniform({3, 7}, -1, 1, DType::kF32, 11);
  // xᵀ · yᵀ: both passed to BLAS as transposes.
  EXPECT_TRUE(AllClose(matmul(x.t(), y.t()), naive_matmul(x.t(), y.t()), 1e-5, 1e-5));
  // Batched transposes, including a permuted batch layout.
  Tensor p = uniform({4, 2, 6, 3}, -1, 1, DType::kF32, 12);
  Tensor q = uniform({2, 4, 6, 5}, -1, 1, DType::kF32, 13);
  Tensor pt = p.permute({1, 0, 3, 2});  // [2, 4, 3, 6]
  EXPECT_TRUE(AllClose(matmul(pt, q), naive_matmul(pt, q), 1e-5, 1e-5));
  // Row stride larger than the row (a column slice), and a column step (needs a copy).
  Tensor wide = uniform({6, 10}, -1, 1, DType::kF32, 14);
  Tensor cols = wide.slice(1, 2, 7);         // [6, 5], row stride 10
  Tensor stepped = wide.slice(1, 0, 10, 2);  // [6, 5], column stride 2
  Tensor r = uniform({5, 4}, -1, 1, DType::kF32, 15);
  EXPECT_TRUE(AllClose(matmul(cols, r), naive_matmul(cols, r), 1e-5, 1e-5));
  EXPECT_TRUE(AllClose(matmul(stepped, r), naive_matmul(stepped, r), 1e-5, 1e-5));
  // Broadcast (stride-0) rows inside the matrix.
  Tensor row = uniform({1, 5}, -1, 1, DType::kF32, 16).expand({6, 5});
  EXPECT_TRUE(AllClose(matmul(row, r), naive_matmul(row, r), 1e-5, 1e-5));
}

TEST(Matmul, TransposedOperandsAreNotCopied) {
  // The only allocation of a product of BLAS-ready views is the output itself.
  Tensor x = uniform({4, 6, 8}, -1, 1, DType::kF32, 36);
  Tensor w = uniform({5, 8}, -1, 1, DType::kF32, 37);
  Tensor y = uniform({4, 3, 6}, -1, 1, DType::kF32, 38);
  autograd::NoGradGuard no_grad;
  Allocator& alloc = allocator_for(Device::cpu());
  for (auto [lhs, rhs] : {std::pair{x, w.t()}, std::pair{y, x}, std::pair{w, x.transpose(1, 2)},
                          std::pair{x.transpose(1, 2), y.transpose(1, 2)}}) {
    const int64_t before = alloc.stats().total_allocations;
    Tensor out = matmul(lhs, rhs);
    EXPECT_EQ(alloc.stats().total_allocations - before, 1) << shape_str(out.shape());
  }
  const int64_t before = alloc.stats().total_allocations;
  linear(x, w, uniform({5}, -1, 1, DType::kF32, 39));
  EXPECT_EQ(alloc.stats().total_allocations - before, 2);  // the bias operand and the output
}

TEST(Matmul, OneDimensionalOperands) {
  Tensor v = uniform({5}, -1, 1, DType::kF64, 17);
  Tensor w = uniform({5}, -1, 1, DType::kF64, 18);
  Tensor m = uniform({5, 3}, -1, 1, DType::kF64, 19);
  Tensor mt = uniform({4, 5}, -1, 1, DType::kF64, 20);
  Tensor bm = uniform({2, 5, 3}, -1, 1, DType::kF64, 21);
  Tensor bmt = uniform({2, 4, 5}, -1, 1, DType::kF64, 22);
  const Tensor vr = v.reshape({1, 5}), vc = v.reshape({5, 1});

  Tensor dot = matmul(v, w);
  EXPECT_EQ(dot.dim(), 0);
  EXPECT_NEAR(dot.item(), naive_matmul(vr, w.reshape({5, 1})).item(), 1e-12);
  EXPECT_TRUE(AllClose(matmul(v, m), naive_matmul(vr, m).reshape({3}), 1e-12));
  EXPECT_TRUE(AllClose(matmul(mt, v), naive_matmul(mt, vc).reshape({4}), 1e-12));
  EXPECT_TRUE(AllClose(matmul(v, bm), naive_matmul(vr, bm).reshape({2, 3}), 1e-12));
  EXPECT_TRUE(AllClose(matmul(bmt, v), naive_matmul(bmt, vc).reshape({2, 4}), 1e-12));
}

TEST(Matmul, ReducedPrecisionComputesInF32) {
  for (DType dt : {DType::kBF16, DType::kF16}) {
    Tensor a = uniform({2, 9, 17}, -1, 1, dt, 23);
    Tensor b = uniform({17, 6}, -1, 1, dt, 24);
    Tensor c = matmul(a, b);
    EXPECT_EQ(c.dtype(), dt);
    // Reference from the same (already rounded) inputs; the result is rounded once.
    const double tol = dt == DType::kBF16 ? 1e-2 : 2e-3;
    EXPECT_TRUE(AllClose(c, naive_matmul(a, b), tol, tol));
  }
}

TEST(Matmul, LargeAndManySmallProducts) {
  // Big enough for OpenBLAS's own threads.
  Tensor a = uniform({2, 100, 80}, -1, 1, DType::kF32, 25);
  Tensor b = uniform({80, 90}, -1, 1, DType::kF32, 26);
  EXPECT_TRUE(AllClose(matmul(a, b), naive_matmul(a, b), 1e-4, 1e-4));
  // Many small GEMMs, spread over the thread pool.
  Tensor p = uniform({64, 8, 7}, -1, 1, DType::kF32, 27);
  Tensor q = uniform({64, 7, 9}, -1, 1, DType::kF32, 28);
  EXPECT_TRUE(AllClose(bmm(p, q), naive_matmul(p, q), 1e-5, 1e-5));
}

TEST(Matmul, EmptyDims) {
  Tensor a = Tensor::zeros({0, 3});
  Tensor b = Tensor::ones({3, 4});
  EXPECT_EQ(matmul(a, b).shape(), (Shape{0, 4}));
  // An empty contraction gives zeros, not garbage.
  Tensor c = matmul(Tensor::ones({3, 0}), Tensor::ones({0, 4}));
  EXPECT_TRUE(AllClose(c, Tensor::zeros({3, 4}, DType::kF64)));
  EXPECT_EQ(matmul(Tensor::ones({0, 2, 3}), Tensor::ones({3, 2})).shape(), (Shape{0, 2, 2}));
}

TEST(Matmul, BadInputsThrow) {
  Tensor a = Tensor::ones({2, 3});
  EXPECT_THROW(matmul(a, Tensor::ones({4, 2})), Error);               // inner dims
  EXPECT_THROW(matmul(a, Tensor::ones({3, 2}, DType::kF64)), Error);  // dtypes
  EXPECT_THROW(matmul(Tensor::ones({2, 3}, DType::kI32), Tensor::ones({3, 2}, DType::kI32)),
               Error);                                                            // integers
  EXPECT_THROW(matmul(Tensor::scalar(1.0), a), Error);                            // 0-dim
  EXPECT_THROW(matmul(Tensor::ones({2, 2, 3}), Tensor::ones({3, 3, 2})), Error);  // batch
  EXPECT_THROW(bmm(a, Tensor::ones({3, 2})), Error);
  EXPECT_THROW(bmm(Tensor::ones({2, 2, 3}), Tensor::ones({3, 3, 2})), Error);
  EXPECT_THROW(linear(a, Tensor::ones({4, 2})), Error);
  EXPECT_THROW(linear(a, Tensor::ones({4, 3}), Tensor::ones({3})), Error);
}

TEST(Linear, MatchesNaive) {
  Tensor x = uniform({2, 3, 4}, -1, 1, DType::kF32, 29);
  Tensor w = uniform({5, 4}, -1, 1, DType::kF32, 30);
  Tensor b = uniform({5}, -1, 1, DType::kF32, 31);
  Tensor ref = add(naive_matmul(x, w.t()), b.to(DType::kF64));
  EXPECT_TRUE(AllClose(linear(x, w, b), ref, 1e-5, 1e-5));
  EXPECT_TRUE(AllClose(linear(x, w), naive_matmul(x, w.t()), 1e-5, 1e-5));
  Tensor v = uniform({4}, -1, 1, DType::kF32, 32);
  Tensor out = linear(v, w, b);
  EXPECT_EQ(out.shape(), (Shape{5}));
  EXPECT_TRUE(AllClose(out,
                       add(naive_matmul(v.reshape({1, 4}), w.t()).reshape({5}), b.to(DType::kF64)),
                       1e-5, 1e-5));
}

TEST(Matmul, GradientsOfFoldedProducts) {
  // f32 at a size where the batch dims fold into single GEMMs; checked against naive products.
  Tensor a = uniform({3, 4, 5}, -1, 1, DType::kF32, 33).set_requires_grad();
  Tensor b = uniform({5, 6}, -1, 1, DType::kF32, 34).set_requires_grad();
  Tensor g = uniform({3, 4, 6}, -1, 1, DType::kF32, 35);
  matmul(a, b).backward(g);
  EXPECT_TRUE(AllClose(a.grad(), naive_matmul(g, b.detach().t()), 1e-5, 1e-5));
  EXPECT_TRUE(
      AllClose(b.grad(), sum(naive_matmul(a.detach().transpose(1, 2), g), {0}), 1e-5, 1e-5));
}

TEST(Matmul, Gradcheck) {
  auto mm = [](const V& v) { return matmul(v[0], v[1]); };
  EXPECT_GRADCHECK(
      mm, {uniform({3, 4}, -1, 1, DType::kF64, 1), uniform({4, 2}, -1, 1, DType::kF64, 2)});
  EXPECT_GRADCHECK(mm, {uniform({2, 1, 3, 4}, -1, 1, DType::kF64, 3),
                        uniform({3, 4, 2}, -1, 1, DType::kF64, 4)});
  EXPECT_GRADCHECK(mm, {uniform({4}, -1, 1, DType::kF64, 5), uniform({4}, -1, 1, DType::kF64, 6)});
  EXPECT_GRADCHECK(
      mm, {uniform({4}, -1, 1, DType::kF64, 7), uniform({2, 4, 3}, -1, 1, DType::kF64, 8)});
  EXPECT_GRADCHECK(
      mm, {uniform({2, 3, 4}, -1, 1, DType::kF64, 9), uniform({4}, -1, 1, DType::kF64, 10)});
  // Transposed views as inputs.
  EXPECT_GRADCHECK(
      [](const V& v) { return matmul(v[0].t(), v[1].transpose(0, 1)); },
      {uniform({4, 3}, -1, 1, DType::kF64, 11), uniform({2, 4}, -1, 1, DType::kF64, 12)});
  EXPECT_GRADCHECK(
      [](const V& v) { return bmm(v[0], v[1]); },
      {uniform({2, 3, 4}, -1, 1, DType::kF64, 13), uniform({2, 4, 2}, -1, 1, DType::kF64, 14)});
}

TEST(Linear, Gradcheck) {
  Tensor w = uniform({3, 4}, -1, 1, DType::kF64, 15);
  Tensor b = uniform({3}, -1, 1, DType::kF64, 16);
  EXPECT_GRADCHECK([](const V& v) { return linear(v[0], v[1], v[2]); },
                   {uniform({2, 2, 4}, -1, 1, DType::kF64, 17), w, b});
  EXPECT_GRADCHECK([](const V& v) { return linear(v[0], v[1]); },
                   {uniform({5, 4}, -1, 1, DType::kF64, 18), w});
  EXPECT_GRADCHECK([](const V& v) { return linear(v[0], v[1], v[2]); },
                   {uniform({4}, -1, 1, DType::kF64, 19), w, b});
}

}  // namespace
}  // namespace chorus
