// Token permutation: routing plans on hand-made cases (sorting, offsets, capacity drops),
// exact round trips, the weighted combine against a naive loop, and gradients.
#include "core/nn/moe/permute.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor/emulated_device.h"
#include "test_util.h"

namespace chorus::nn::moe {
namespace {

using testing::AllClose;
using testing::uniform;

Tensor indices_of(const std::vector<int64_t>& v, int64_t k) {
  return Tensor::from_vector(v, {static_cast<int64_t>(v.size()) / k, k});
}

TEST(RoutingPlan, SortsSlotsByExpertStably) {
  // Tokens 0..3, k = 2: (0: e2, e0) (1: e0, e3) (2: e2, e1) (3: e0, e2); expert 4 gets nothing.
  RoutingPlan plan = make_routing_plan(indices_of({2, 0, 0, 3, 2, 1, 0, 2}, 2), 5);
  EXPECT_EQ(plan.num_rows(), 8);
  EXPECT_EQ(plan.num_dropped, 0);
  EXPECT_EQ(plan.tokens_per_expert.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 3, 1, 0}));
  EXPECT_EQ(plan.offsets.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 4, 7, 8, 8}));
  // Expert 0 serves slots 1, 2, 6 (token order), expert 1 slot 5, expert 2 slots 0, 4, 7, ...
  EXPECT_EQ(plan.row_slot.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 6, 5, 0, 4, 7, 3}));
  EXPECT_EQ(plan.slot_row.to_vector<int64_t>(), (std::vector<int64_t>{4, 0, 1, 7, 5, 3, 2, 6}));
}

TEST(RoutingPlan, CapacityDropsLowestPriority) {
  // All six slots of three tokens (k = 2) go to experts 0 and 1; capacity 2 each.
  Tensor idx = indices_of({0, 1, 0, 1, 1, 0}, 2);
  Tensor prio = testing::from({0.5, 0.2, 0.7, 0.3, 0.1, 0.6}, {3, 2});
  RoutingPlan plan = make_routing_plan(idx, 2, /*capacity=*/2, prio);
  // Expert 0 has slots 0 (0.5), 2 (0.7), 5 (0.6): slot 0 is dropped. Expert 1 has slots
  // 1 (0.2), 3 (0.3), 4 (0.1): slot 4 is dropped.
  EXPECT_EQ(plan.num_dropped, 2);
  EXPECT_EQ(plan.tokens_per_expert.to_vector<int64_t>(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(plan.offsets.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(plan.row_slot.to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 1, 3}));
  EXPECT_EQ(plan.slot_row.to_vector<int64_t>(), (std::vector<int64_t>{-1, 2, 0, 3, -1, 1}));
}

TEST(RoutingPlan, CapacityTiesGoToEarlierTokens) {
  Tensor idx = indices_of({0, 0, 0, 0}, 1);
  Tensor prio = testing::from({0.4, 0.9, 0.4, 0.4}, {4, 1});
  // Slot 1 (0.9) and, of the three tied at 0.4, slot 0 survive; kept slots stay in token order.
  RoutingPlan plan = make_routing_plan(idx, 1, 2, prio);
  EXPECT_EQ(plan.slot_row.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, -1, -1}));
  RoutingPlan none = make_routing_plan(idx, 1, 0, prio);  // capacity 0 drops everything
  EXPECT_EQ(none.num_rows(), 0);
  EXPECT_EQ(none.num_dropped, 4);
}

TEST(RoutingPlan, RejectsMisuse) {
  EXPECT_THROW(make_routing_plan(indices_of({0, 3}, 1), 3), Error);     // index out of range
  EXPECT_THROW(make_routing_plan(indices_of({0, -1}, 1), 3), Error);    // negative
  EXPECT_THROW(make_routing_plan(uniform({2, 1}), 3), Error);           // not integer
  EXPECT_THROW(make_routing_plan(indices_of({0, 1}, 1), 3, 1), Error);  // no priorities
  EXPECT_THROW(make_routing_plan(indices_of({0, 1}, 1), 0), Error);
}

TEST(Permute, RoundTripIsExact) {
  Tensor x = uniform({7, 5}, -3, 3, DType::kF32, 1);
  RoutingPlan k1 = make_routing_plan(indices_of({2, 0, 1, 2, 2, 0, 3}, 1), 4);
  Tensor rows = permute_tokens(x, k1);
  EXPECT_EQ(rows.shape(), (Shape{7, 5}));
  EXPECT_EQ(unpermute_tokens(rows, k1).to_vector<float>(), x.to_vector<float>());
  // k = 2: each row appears twice; weights 0.5 (exact in binary) give x back exactly.
  RoutingPlan k2 = make_routing_plan(indices_of({2, 0, 1, 2, 2, 3, 0, 1, 3, 1, 0, 2, 1, 3}, 2), 4);
  Tensor rows2 = permute_tokens(x, k2);
  EXPECT_EQ(rows2.shape(), (Shape{14, 5}));
  Tensor half = Tensor::full({7, 2}, 0.5, DType::kF32);
  EXPECT_EQ(unpermute_tokens(rows2, k2, half).to_vector<float>(), x.to_vector<float>());
}

TEST(Permute, RowsAreGroupedByExpert) {
  Tensor x = uniform({4, 3}, -1, 1, DType::kF64, 2);
  RoutingPlan plan = make_routing_plan(indices_of({1, 0, 0, 1, 1, 0, 0, 1}, 2), 2);
  const auto vx = x.to_vector<double>(), vr = permute_tokens(x, plan).to_vector<double>();
  const std::vector<int64_t> token_of_row{0, 1, 2, 3, 0, 1, 2, 3};  // expert 0, then expert 1
  for (int64_t r = 0; r < 8; ++r) {
    for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(vr[r * 3 + c], vx[token_of_row[r] * 3 + c]);
  }
}

TEST(Permute, WeightedCombineMatchesNaiveLoop) {
  Tensor idx = indices_of({0, 2, 1, 0, 2, 1, 0, 1, 2, 0}, 2);
  Tensor prio = uniform({5, 2}, 0, 1, DType::kF64, 3);
  RoutingPlan plan = make_routing_plan(idx, 3, /*capacity=*/3, prio);  // drops one slot
  ASSERT_EQ(plan.num_dropped, 1);
  Tensor rows = uniform({plan.num_rows(), 4}, -1, 1, DType::kF64, 4);
  Tensor w = uniform({5, 2}, 0, 1, DType::kF64, 5);
  const auto vr = rows.to_vector<double>(), vw = w.to_vector<double>();
  const auto sr = plan.slot_row.to_vector<int64_t>();
  std::vector<double> expect(20, 0.0);
  for (int64_t s = 0; s < 10; ++s) {
    if (sr[s] < 0) continue;
    for (int64_t c = 0; c < 4; ++c) expect[(s / 2) * 4 + c] += vw[s] * vr[sr[s] * 4 + c];
  }
  EXPECT_TRUE(
      AllClose(unpermute_tokens(rows, plan, w), testing::from(expect, {5, 4}), 1e-14, 1e-14));
}

TEST(Permute, Gradcheck) {
  Tensor idx = indices_of({0, 2, 1, 0, 2, 1, 0, 1}, 2);
  Tensor prio = uniform({4, 2}, 0, 1, DType::kF64, 6);
  for (int64_t capacity : {-1, 2}) {
    RoutingPlan plan = make_routing_plan(idx, 3, capacity, prio);
    Tensor x = uniform({4, 3}, -1, 1, DType::kF64, 7);
    Tensor w = uniform({4, 2}, 0, 1, DType::kF64, 8);
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return permute_tokens(in[0], plan); },
                     {x});
    Tensor rows = uniform({plan.num_rows(), 3}, -1, 1, DType::kF64, 9);
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& in) { return unpermute_tokens(in[0], plan, in[1]); },
        {rows, w});
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& in) {
          return unpermute_tokens(permute_tokens(in[0], plan), plan, in[1]);
        },
        {x, w});
  }
}

TEST(Permute, MixedDtypes) {
  // bf16 rows with f32 gate weights: computed in f32, result bf16, weight gradient f32.
  Tensor idx = indices_of({1, 0, 1}, 1);
  RoutingPlan plan = make_routing_plan(idx, 2);
  Tensor rows = uniform({3, 4}, -1, 1, DType::kBF16, 10).set_requires_grad();
  Tensor w = uniform({3, 1}, 0, 1, DType::kF32, 11).set_requires_grad();
  Tensor y = unpermute_tokens(rows, plan, w);
  EXPECT_EQ(y.dtype(), DType::kBF16);
  y.backward(Tensor::ones({3, 4}, DType::kBF16));
  EXPECT_EQ(w.grad().dtype(), DType::kF32);
  EXPECT_EQ(rows.grad().dtype(), DType::kBF16);
}

TEST(Permute, EmptyAndMisuse) {
  RoutingPlan empty = make_routing_plan(Tensor::zeros({0, 2}, DType::kI64), 3);
  EXPECT_EQ(empty.offsets.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 0}));
  Tensor rows = permute_tokens(Tensor::zeros({0, 4}), empty);
  EXPECT_EQ(rows.shape(), (Shape{0, 4}));
  EXPECT_EQ(unpermute_tokens(rows, empty).shape(), (Shape{0, 4}));

  RoutingPlan plan = make_routing_plan(indices_of({1, 0}, 1), 2);
  EXPECT_THROW(permute_tokens(uniform({3, 4}), plan), Error);    // wrong token count
  EXPECT_THROW(unpermute_tokens(uniform({3, 4}), plan), Error);  // wrong row count
  EXPECT_THROW(unpermute_tokens(uniform({2, 4}), plan, uniform({2, 2})), Error);  // weights
  EXPECT_THROW(permute_tokens(uniform({2, 4}), RoutingPlan{}), Error);            // no plan
}

// On a device (the host-memory stand-in for cuda:0 of core/tensor/emulated_device.h; skipped
// when a real CUDA backend owns cuda:0, tests/cuda covers that): the plan's row_slot/slot_row
// follow the router's indices onto the device, offsets stay on the host, a host-made plan also
// works with device data, and results and gradients equal the CPU's exactly.
TEST(Permute, OnADevice) {
  if (!emulate_cuda_on_host().ok()) GTEST_SKIP() << "a real CUDA backend is loaded";
  {  // every device tensor is freed before the emulation stops
    const Device dev = Device::cuda(0);
    const Tensor idx = indices_of({2, 0, 1, 2, 2, 1, 0, 2, 1, 1}, 2);
    const Tensor prio = uniform({5, 2}, 0, 1, DType::kF32, 20);
    const RoutingPlan hp = make_routing_plan(idx, 3, 3, prio);
    const RoutingPlan dp = make_routing_plan(idx.to(dev), 3, 3, prio.to(dev));
    EXPECT_EQ(dp.row_slot.device(), dev);
    EXPECT_EQ(dp.slot_row.device(), dev);
    EXPECT_TRUE(dp.offsets.device().is_cpu());
    EXPECT_EQ(dp.slot_row.to_vector<int64_t>(), hp.slot_row.to_vector<int64_t>());
    const Tensor x = uniform({5, 4}, -1, 1, DType::kF32, 21);
    const Tensor w = uniform({5, 2}, 0, 1, DType::kF32, 22);
    const Tensor cx = x.detach().set_requires_grad(), cw = w.detach().set_requires_grad();
    const Tensor dx = x.to(dev).set_requires_grad(), dw = w.to(dev).set_requires_grad();
    const Tensor cy = unpermute_tokens(mul(permute_tokens(cx, hp), 2.0), hp, cw);
    const Tensor dy = unpermute_tokens(mul(permute_tokens(dx, dp), 2.0), dp, dw);
    EXPECT_EQ(dy.device(), dev);
    EXPECT_EQ(cy.to_vector<double>(), dy.to_vector<double>());
    sum(mul(cy, cy)).backward();
    sum(mul(dy, dy)).backward();
    EXPECT_EQ(cx.grad().to_vector<double>(), dx.grad().to_vector<double>());
    EXPECT_EQ(cw.grad().to_vector<double>(), dw.grad().to_vector<double>());
    // A plan made on the host, used with device data.
    EXPECT_EQ(permute_tokens(x, hp).to_vector<double>(),
              permute_tokens(x.to(dev), hp).to_vector<double>());
  }
  stop_emulating_cuda();
}

}  // namespace
}  // namespace chorus::nn::moe
