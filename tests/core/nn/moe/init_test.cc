// MoE initialisation draws follow the Philox stream layout of philox.h (element i = word i of
// the draw), so the CUDA backend and other tools can reproduce them.
#include "core/nn/moe/init.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_util.h"

namespace chorus::nn::moe {
namespace {

TEST(MoeInit, FollowsPhiloxStreamLayout) {
  Generator gen(0x123456789ULL);
  gen.reserve(5);  // start at a non-zero offset
  const uint64_t offset = gen.offset();
  Tensor a = uniform_init({3, 3}, 0.5, DType::kF64, gen);  // 9 elements: not a multiple of 4
  Tensor b = uniform_jitter({2}, 0.25, DType::kF64, gen);
  EXPECT_EQ(gen.offset(), offset + 3 + 1);  // ceil(9 / 4) blocks, then one more
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (uint64_t i = 0; i < 9; ++i) {
    const double u = uniform_from_word(philox_word(gen.seed(), offset, i));
    EXPECT_EQ(va[i], -0.5 + 1.0 * u);
  }
  for (uint64_t i = 0; i < 2; ++i) {
    const double u = uniform_from_word(philox_word(gen.seed(), offset + 3, i));
    EXPECT_EQ(vb[i], 0.75 + 0.5 * u);
  }
}

}  // namespace
}  // namespace chorus::nn::moe
