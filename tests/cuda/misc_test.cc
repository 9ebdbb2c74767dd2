// Parity of dropout (bit-identical masks), embedding, indexing, the fused optimizer updates,
// gradient clipping and the matmuls (pooling: pool_moe_test.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/attention.h"
#include "core/ops/conv.h"
#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/embedding.h"
#include "core/ops/fused_adamw.h"
#include "core/ops/fused_sgd.h"
#include "core/ops/grad_clip.h"
#include "core/ops/grouped_matmul.h"
#include "core/ops/index.h"
#include "core/ops/matmul.h"
#include "core/tensor/philox.h"
#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

const DType kFloatTypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kF64};

TEST(CudaParity, DropoutMaskIsBitIdentical) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    for (const Shape& s : {Shape{1}, Shape{7}, Shape{33, 65}, Shape{0}, Shape{1 << 20}}) {
      for (double p : {0.1, 0.5, 0.9, 1.0}) {
        const Tensor x = rand(s, dt, 5, 0.5, 1.5);
        Generator gc(1234), gg(1234);
        gc.reserve(3);  // a non-zero offset
        gg.reserve(3);
        const Tensor yc = dropout(x, p, true, gc);
        const Tensor yg = dropout(on(x, gpu()), p, true, gg);
        EXPECT_TRUE(Same("dropout", dt, yc, yg)) << shape_str(s) << " p=" << p;
        EXPECT_TRUE(Same("dropout_mask", dt, logical_not(eq(yc, 0.0)), logical_not(eq(yg, 0.0))));
        EXPECT_EQ(gc.offset(), gg.offset());
      }
    }
    Generator gc(77), gg(77);
    check_op("dropout_grad", dt, {rand({9, 17}, dt, 6)}, [&](const std::vector<Tensor>& in) {
      return dropout(in[0], 0.3, true, in[0].device().is_cpu() ? gc : gg);
    });
  }
}

TEST(CudaParity, Embedding) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    const Tensor w = rand({50, 24}, dt, 1);
    const Tensor idx = randint({7, 9}, 0, 50, 2);  // repeats: gradient rows accumulate
    check_op("embedding", dt, {w, idx},
             [](const std::vector<Tensor>& in) { return embedding(in[0], in[1]); }, {true, false});
    check_op("embedding_padding", dt, {w, idx},
             [](const std::vector<Tensor>& in) { return embedding(in[0], in[1], 3); },
             {true, false});
    const Tensor w_odd = rand({11, 3}, dt, 3);
    check_op("embedding_odd", dt, {w_odd, randint({0}, 0, 11, 4)},
             [](const std::vector<Tensor>& in) { return embedding(in[0], in[1]); }, {true, false});
    check_op("embedding_odd", dt, {w_odd, randint({13}, 0, 11, 5)},
             [](const std::vector<Tensor>& in) { return embedding(in[0], in[1]); }, {true, false});
  }
}

TEST(CudaParity, Indexing) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    const Tensor x = rand({6, 7, 8}, dt, 10);
    for (int64_t dim : {0, 1, 2}) {
      const Tensor gidx = randint({6, 7, 8}, 0, x.size(dim), 11 + dim).slice(dim, 0, 3);
      check_op("gather", dt, {x, gidx},
               [&](const std::vector<Tensor>& in) { return gather(in[0], dim, in[1]); },
               {true, false});
      const Tensor src = rand(gidx.shape(), dt, 20 + dim);
      check_op("scatter_add", dt, {x, gidx, src},
               [&](const std::vector<Tensor>& in) { return scatter_add(in[0], dim, in[1], in[2]); },
               {true, false, true});
      const Tensor sidx = randint({5}, 0, x.size(dim), 30 + dim);
      check_op("index_select", dt, {x, sidx},
               [&](const std::vector<Tensor>& in) { return index_select(in[0], dim, in[1]); },
               {true, false});
      Shape ss = x.shape();
      ss[dim] = 5;
      check_op("index_add", dt, {x, sidx, rand(ss, dt, 40 + dim)},
               [&](const std::vector<Tensor>& in) { return index_add(in[0], dim, in[1], in[2]); },
               {true, false, true});
    }
  }
  const Tensor i = randint({4, 6}, 0, 10, 50);
  EXPECT_TRUE(Same("one_hot", DType::kI64, one_hot(i, 10), one_hot(on(i, gpu()), 10)));
  const Tensor xi = randint({5, 6}, -9, 9, 51), ii = randint({5, 6}, 0, 5, 52);
  EXPECT_TRUE(Same("scatter_add_i64", DType::kI64, scatter_add(xi, 0, ii, xi),
                   scatter_add(on(xi, gpu()), 0, on(ii, gpu()), on(xi, gpu()))));
  // An index out of range is an error naming the op on both devices.
  EXPECT_THROW(index_select(on(rand({4, 3}, DType::kF32, 1), gpu()), 0,
                            on(Tensor::from_vector<int64_t>({0, 4}, {2}), gpu())),
               Error);
}

TEST(CudaParity, FusedOptimizers) {
  CHORUS_REQUIRE_GPU();
  for (DType pdt : {DType::kF32, DType::kF64}) {
    for (DType gdt : kFloatTypes) {
      for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{4096}, int64_t{100003}}) {
        for (bool with_model : {false, true}) {
          if (with_model && pdt == DType::kF64) continue;
          const Tensor p = rand({n}, pdt, 1), g = rand({n}, gdt, 2);
          const Tensor m = rand({n}, pdt, 3), v = rand({n}, pdt, 4, 0, 1);
          const Tensor model = with_model ? p.to(DType::kBF16) : Tensor();
          std::vector<Tensor> c = {p.clone(), m.clone(), v.clone(),
                                   with_model ? model.clone() : Tensor()};
          std::vector<Tensor> d = {on(p, gpu()), on(m, gpu()), on(v, gpu()),
                                   with_model ? on(model, gpu()) : Tensor()};
          AdamWStep h;
          h.lr = 1e-2;
          h.weight_decay = 0.1;
          h.step = 3;
          fused_adamw_(c[0], g, c[1], c[2], h, c[3]);
          fused_adamw_(d[0], on(g, gpu()), d[1], d[2], h, d[3]);
          for (int k = 0; k < (with_model ? 4 : 3); ++k) {
            EXPECT_TRUE(Match("fused_adamw", gdt, c[k], d[k])) << "operand " << k << " n=" << n;
          }
          SGDStep s;
          s.lr = 0.05;
          s.momentum = 0.9;
          s.weight_decay = 0.01;
          s.nesterov = with_model;
          const Tensor buf_c = m.clone(), buf_d = on(m, gpu());
          const Tensor pc = p.clone(), pd = on(p, gpu());
          fused_sgd_(pc, g, buf_c, s);
          fused_sgd_(pd, on(g, gpu()), buf_d, s);
          EXPECT_TRUE(Match("fused_sgd", gdt, pc, pd));
          EXPECT_TRUE(Match("fused_sgd", gdt, buf_c, buf_d));
        }
      }
    }
  }
}

TEST(CudaParity, GradClipKernels) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    const Tensor x = rand({100003}, dt, 7, -3, 3);
    const Tensor g = on(x, gpu());
    for (double p : {1.0, 2.0, 3.0, std::numeric_limits<double>::infinity()}) {
      const double a = abs_pow_sum(x, p), b = abs_pow_sum(g, p);
      EXPECT_NEAR(a, b, 1e-9 * std::max(1.0, std::fabs(a))) << dtype_name(dt) << " p=" << p;
      // Accumulated on the device over two tensors (x and its first 999 elements), starting
      // from 0.5: against the CPU's per-tensor sums.
      const Tensor head = x.slice(0, 0, 999);
      const double h = abs_pow_sum(head, p);
      const Tensor acc = on(Tensor::full({1}, 0.5, DType::kF64), gpu());
      abs_pow_sum_accumulate(acc, g, p);
      abs_pow_sum_accumulate(acc, on(head, gpu()), p);
      const double want = std::isinf(p) ? std::max({0.5, a, h}) : 0.5 + a + h;
      EXPECT_NEAR(acc.item(), want, 1e-9 * std::max(1.0, want)) << dtype_name(dt) << " p=" << p;
    }
    const Tensor xc = x.clone();
    scale_(xc, 0.37);
    scale_(g, 0.37);
    EXPECT_TRUE(Match("scale_", dt, xc, g));
  }
}

TEST(CudaParity, Matmuls) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    check_op("matmul", dt, {rand({5, 3, 17}, dt, 1), rand({17, 9}, dt, 2)},
             [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); });
    check_op("linear", dt, {rand({6, 17}, dt, 3), rand({9, 17}, dt, 4), rand({9}, dt, 5)},
             [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); });
    const Tensor offsets = Tensor::from_vector<int64_t>({0, 3, 3, 10}, {4});
    check_op("grouped_matmul", dt, {rand({10, 8}, dt, 6), rand({3, 8, 5}, dt, 7), offsets},
             [](const std::vector<Tensor>& in) { return grouped_matmul(in[0], in[1], in[2]); },
             {true, true, false});
  }
}

TEST(CudaParity, AttentionAndConv) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    // [B, H, L, D] with a key-padding mask (padding keys at the end of batch 1).
    const Tensor q = rand({2, 3, 17, 16}, dt, 1), k = rand({2, 3, 19, 16}, dt, 2),
                 v = rand({2, 3, 19, 16}, dt, 3);
    std::vector<uint8_t> pad(2 * 19, 0);
    for (int j = 15; j < 19; ++j) pad[19 + j] = 1;
    const Tensor mask = Tensor::from_vector(pad, {2, 19}).to(DType::kBool);
    for (bool causal : {false, true}) {
      check_op(causal ? "attention_causal_masked" : "attention_masked", dt, {q, k, v, mask},
               [&](const std::vector<Tensor>& in) {
                 AttentionOptions o;
                 o.causal = causal;
                 o.key_padding_mask = in[3];
                 return scaled_dot_product_attention(in[0], in[1], in[2], o);
               },
               {true, true, true, false});
    }
    check_op("conv2d", dt,
             {rand({2, 3, 9, 11}, dt, 4), rand({4, 3, 3, 3}, dt, 5), rand({4}, dt, 6)},
             [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2]); });
  }
}

}  // namespace
}  // namespace chorus::parity
