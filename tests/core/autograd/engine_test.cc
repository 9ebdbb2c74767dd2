// The backward engine: accumulation over shared subgraphs, hooks, retain_graph, NoGradGuard,
// detach, retained non-leaf gradients. Expected values are worked out by hand.
#include <gtest/gtest.h>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::from;

TEST(Engine, DiamondGraphAccumulates) {
  // y = sum(a*a + a*3): dy/da = 2a + 3, reached through two paths that share `a`.
  Tensor a = from({1, -2, 0.5}, {3});
  a.set_requires_grad();
  Tensor y = sum(add(mul(a, a), mul(a, 3.0)));
  y.backward();
  EXPECT_TRUE(AllClose(a.grad(), from({5, -1, 4}, {3})));
}

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor a = from({2}, {1});
  a.set_requires_grad();
  sum(mul(a, 3.0)).backward();
  sum(mul(a, 4.0)).backward();
  EXPECT_TRUE(AllClose(a.grad(), from({7}, {1})));
}

TEST(Engine, SecondBackwardNeedsRetainGraph) {
  Tensor a = from({2}, {1});
  a.set_requires_grad();
  Tensor y = sum(exp(a));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_NEAR(a.grad().item(), 2 * std::exp(2.0), 1e-9);
  EXPECT_THROW(y.backward(), Error);  // graph was freed by the last call
}

TEST(Engine, NoGradGuardAndDetachStopRecording) {
  Tensor a = from({1, 2}, {2});
  a.set_requires_grad();
  {
    autograd::NoGradGuard guard;
    EXPECT_FALSE(mul(a, 2.0).requires_grad());
  }
  EXPECT_TRUE(mul(a, 2.0).requires_grad());
  Tensor d = mul(a, 2.0).detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  // The detached branch contributes nothing: dy/da = 1 from the attached term only.
  sum(add(a, mul(d, a.detach()))).backward();
  EXPECT_TRUE(AllClose(a.grad(), from({1, 1}, {2})));
}

TEST(Engine, HooksSeeAndReplaceGradients) {
  Tensor a = from({1, 2}, {2});
  a.set_requires_grad();
  Tensor b = mul(a, 3.0);
  std::vector<double> seen;
  b.register_hook([&](const Tensor& g) {
    seen = g.to_vector<double>();
    return mul(g, 10.0);  // scale the gradient flowing to a
  });
  a.register_hook([](const Tensor& g) { return add(g, 1.0); });
  b.retain_grad();
  sum(mul(b, b)).backward();  // d/db = 2b = [6, 12]
  EXPECT_EQ(seen, (std::vector<double>{6, 12}));
  EXPECT_TRUE(AllClose(b.grad(), from({60, 120}, {2})));
  EXPECT_TRUE(AllClose(a.grad(), from({181, 361}, {2})));  // 3·10·[6,12] + 1
}

TEST(Engine, BranchWithoutGradientDoesNotBlockOthers) {
  // `c` feeds only an output that is not differentiated; `a` must still get its gradient.
  Tensor a = from({1, 2}, {2});
  a.set_requires_grad();
  Tensor c = mul(a, 2.0);
  Tensor unused = exp(c);
  (void)unused;
  sum(mul(c, a)).backward();  // d/da (2a·a) = 4a
  EXPECT_TRUE(AllClose(a.grad(), from({4, 8}, {2})));
}

TEST(Engine, BackwardNeedsScalarOrGradient) {
  Tensor a = from({1, 2}, {2});
  a.set_requires_grad();
  Tensor y = mul(a, 2.0);
  EXPECT_THROW(y.backward(), Error);
  y.backward(from({1, 10}, {2}));
  EXPECT_TRUE(AllClose(a.grad(), from({2, 20}, {2})));
  EXPECT_THROW(from({1}, {1}).backward(), Error);  // nothing requires grad
}

TEST(Engine, Bf16LeafReceivesBf16Gradient) {
  Tensor a = Tensor::full({3}, 1.5, DType::kBF16);
  a.set_requires_grad();
  sum(mul(a.to(DType::kF32), 2.0)).backward();
  EXPECT_EQ(a.grad().dtype(), DType::kBF16);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{2, 2, 2}));
}

}  // namespace
}  // namespace chorus
