// The device dispatch of core/ops/kernel_dispatch.h, exercised without a GPU. A stand-in
// "cuda:0" whose memory is host memory (core/tensor/emulated_device.h) is installed; no CUDA kernel
// is registered in a CPU build, so every op on it goes through the front-ends' device plumbing
// (same-device checks, host reads of indices, 0-dim host scalars) and the host fallback. Results
// must equal the CPU's exactly: the same CPU kernels run. In a CUDA build the real backend owns
// cuda:0 and these tests skip (tests/cuda covers it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/ops/attention.h"
#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/embedding.h"
#include "core/ops/fused_adamw.h"
#include "core/ops/grouped_matmul.h"
#include "core/ops/index.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/loss.h"
#include "core/ops/normalization.h"
#include "core/ops/pool.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "core/tensor/emulated_device.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::uniform;

const Device kFake = Device::cuda(0);

class FakeDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!emulate_cuda_on_host().ok()) {
      GTEST_SKIP() << "a real CUDA backend is loaded; tests/cuda covers it";
    }
  }
  void TearDown() override { stop_emulating_cuda(); }
  static Tensor on_fake(const Tensor& t) {
    Tensor out = Tensor::empty(t.shape(), t.dtype(), kFake);
    out.copy_(t);
    return out;
  }
  static std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }
};

TEST_F(FakeDevice, ElementwiseWithHostScalarsAndGradients) {
  const Tensor a = uniform({4, 5}, -1, 1, DType::kF32, 1), b = uniform({5}, -1, 1, DType::kF32, 2);
  const Tensor ca = a.detach().set_requires_grad(), cb = b.detach().set_requires_grad();
  const Tensor fa = on_fake(a).set_requires_grad(), fb = on_fake(b).set_requires_grad();
  const Tensor cy = relu(add(mul(ca, cb), 0.5));
  const Tensor fy = relu(add(mul(fa, fb), 0.5));
  EXPECT_EQ(fy.device(), kFake);
  EXPECT_EQ(values(cy), values(fy));
  sum(cy).backward();
  sum(fy).backward();
  EXPECT_EQ(fa.grad().device(), kFake);
  EXPECT_EQ(values(ca.grad()), values(fa.grad()));
  EXPECT_EQ(values(cb.grad()), values(fb.grad()));
  // A 0-dim host tensor joins; a full host tensor is an error naming the devices.
  EXPECT_EQ(values(where(gt(a, 0.0), a, Tensor::scalar(0.0))),
            values(where(gt(on_fake(a), 0.0), on_fake(a), Tensor::scalar(0.0))));
  try {
    add(on_fake(a), a);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("different devices"), std::string::npos) << e.what();
  }
}

TEST_F(FakeDevice, RowOpsAndLoss) {
  const Tensor x = uniform({6, 9}, -2, 2, DType::kF32, 3);
  const Tensor w = uniform({9}, 0.5, 1.5, DType::kF32, 4);
  EXPECT_EQ(values(softmax(x, -1)), values(softmax(on_fake(x), -1)));
  EXPECT_EQ(values(layer_norm(x, {9}, w, Tensor(), 1e-5)),
            values(layer_norm(on_fake(x), {9}, on_fake(w), Tensor(), 1e-5)));
  const Tensor t = Tensor::from_vector<int64_t>({0, 8, -100, 3, 3, 1}, {6});
  CrossEntropyOptions o;
  o.label_smoothing = 0.1;
  const Tensor cx = x.detach().set_requires_grad(), fx = on_fake(x).set_requires_grad();
  const Tensor cl = cross_entropy(cx, t, o), fl = cross_entropy(fx, on_fake(t), o);
  EXPECT_EQ(fl.device(), kFake);
  EXPECT_EQ(values(cl), values(fl));
  cl.backward();
  fl.backward();
  EXPECT_EQ(values(cx.grad()), values(fx.grad()));
  // Target 9 is outside [0, 9): the host throws; a device does not read its targets back (that
  // would wait for it) and gives a NaN loss instead (loss.h).
  const Tensor bad = Tensor::from_vector<int64_t>({0, 9, 0, 0, 0, 0}, {6});
  EXPECT_THROW(cross_entropy(x, bad), Error);
  const std::vector<double> bad_loss = values(cross_entropy(on_fake(x), on_fake(bad)));
  ASSERT_EQ(bad_loss.size(), 1u);
  EXPECT_TRUE(std::isnan(bad_loss[0]));
}

TEST_F(FakeDevice, IndexingEmbeddingAndReductions) {
  const Tensor x = uniform({5, 7}, -1, 1, DType::kF32, 5);
  const Tensor idx = Tensor::from_vector<int64_t>({4, 0, 4, 2}, {4});
  EXPECT_EQ(values(index_select(x, 0, idx)), values(index_select(on_fake(x), 0, on_fake(idx))));
  EXPECT_EQ(values(one_hot(idx, 6)), values(one_hot(on_fake(idx), 6)));
  EXPECT_EQ(one_hot(on_fake(idx), 6).device(), kFake);
  EXPECT_THROW(index_select(on_fake(x), 0, on_fake(Tensor::from_vector<int64_t>({5}, {1}))), Error);
  const Tensor cw = x.detach().set_requires_grad(), fw = on_fake(x).set_requires_grad();
  const Tensor ce = embedding(cw, idx), fe = embedding(fw, on_fake(idx));
  EXPECT_EQ(values(ce), values(fe));
  sum(mul(ce, ce)).backward();
  sum(mul(fe, fe)).backward();
  EXPECT_EQ(values(cw.grad()), values(fw.grad()));
  EXPECT_EQ(values(amax(x, {1})), values(amax(on_fake(x), {1})));
  EXPECT_EQ(values(argmax(x, 0)), values(argmax(on_fake(x), 0)));
}

TEST_F(FakeDevice, DropoutOptimizerAndGroupedMatmul) {
  const Tensor x = uniform({1000}, 0.5, 1.5, DType::kF32, 6);
  Generator g1(42), g2(42);
  EXPECT_EQ(values(dropout(x, 0.3, true, g1)), values(dropout(on_fake(x), 0.3, true, g2)));
  // In-place update: the fallback copies the host result back into the device storage.
  const Tensor p = uniform({33}, -1, 1, DType::kF32, 7),
               grad = uniform({33}, -1, 1, DType::kBF16, 8);
  const Tensor cp = p.clone(), cm = Tensor::zeros({33}), cv = Tensor::zeros({33});
  const Tensor fp = on_fake(p), fm = Tensor::zeros({33}, DType::kF32, kFake),
               fv = Tensor::zeros({33}, DType::kF32, kFake);
  AdamWStep h;
  h.weight_decay = 0.1;
  fused_adamw_(cp, grad, cm, cv, h);
  fused_adamw_(fp, on_fake(grad), fm, fv, h);
  EXPECT_EQ(values(cp), values(fp));
  EXPECT_EQ(values(cv), values(fv));
  const Tensor gx = uniform({7, 4}, -1, 1, DType::kF32, 9),
               gw = uniform({3, 4, 2}, -1, 1, DType::kF32, 10);
  const Tensor offsets = Tensor::from_vector<int64_t>({0, 2, 2, 7}, {4});
  EXPECT_EQ(values(grouped_matmul(gx, gw, offsets)),
            values(grouped_matmul(on_fake(gx), on_fake(gw), on_fake(offsets))));
  // A binary op on the fake device runs through the host fallback, and it is counted (this
  // test must not rely on other tests having run first: ctest runs each one alone).
  EXPECT_EQ(values(add(x, x)), values(add(on_fake(x), on_fake(x))));
  bool saw_binary = false;
  for (const auto& [name, count] : ops_internal::host_fallback_counts()) {
    saw_binary = saw_binary || (name == "cpu::binary_kernel" && count > 0);
  }
  EXPECT_TRUE(saw_binary);
}

TEST_F(FakeDevice, Pools) {
  const Tensor x = uniform({2, 3, 9, 10}, -1, 1, DType::kF32, 12);
  const Tensor cx = x.detach().set_requires_grad(), fx = on_fake(x).set_requires_grad();
  auto pools = [](const Tensor& t) {
    const ValuesIndices m = max_pool2d_with_indices(t, {3, 3}, {2, 2}, {1, 1});
    return std::make_pair(add(add(sum(m.values), sum(avg_pool2d(t, {2, 3}, {1, 2}, {1, 1}, false))),
                              sum(adaptive_avg_pool2d(t, {4, 7}))),
                          m.indices);
  };
  const auto [cy, ci] = pools(cx);
  const auto [fy, fi] = pools(fx);
  EXPECT_EQ(fi.device(), kFake);
  EXPECT_EQ(values(ci), values(fi));
  EXPECT_EQ(values(cy), values(fy));
  cy.backward();
  fy.backward();
  EXPECT_EQ(values(cx.grad()), values(fx.grad()));
}

TEST_F(FakeDevice, AttentionWithKeyPaddingMask) {
  // The mask reaches the kernel as a raw pointer: with no device kernel it must be host memory.
  const Tensor q = uniform({1, 2, 5, 4}, -1, 1, DType::kF32, 11);
  const Tensor k = uniform({1, 2, 6, 4}, -1, 1, DType::kF32, 12);
  const Tensor mask = Tensor::from_vector<uint8_t>({0, 0, 0, 0, 1, 1}, {1, 6}).to(DType::kBool);
  AttentionOptions host, fake;
  host.key_padding_mask = mask;
  fake.key_padding_mask = on_fake(mask);
  host.causal = fake.causal = true;
  const Tensor cq = q.detach().set_requires_grad(), fq = on_fake(q).set_requires_grad();
  const Tensor co = scaled_dot_product_attention(cq, k, k, host);
  const Tensor fo = scaled_dot_product_attention(fq, on_fake(k), on_fake(k), fake);
  EXPECT_EQ(values(co), values(fo));
  sum(co).backward();
  sum(fo).backward();
  EXPECT_EQ(values(cq.grad()), values(fq.grad()));
}

}  // namespace
}  // namespace chorus
