// The shipped presets carry the project's seed configuration.
#include "core/nn/presets.h"

#include <gtest/gtest.h>

#include "core/nn/transformer.h"

namespace chorus::nn {
namespace {

TEST(Presets, SeedConfigurationIs64ExpertsTop2Width2048) {
  const auto p = presets::seed_moe();
  EXPECT_EQ(p.transformer.width, 2048);
  EXPECT_EQ(p.moe.num_experts, 64);
  EXPECT_EQ(p.moe.top_k, 2);
  EXPECT_TRUE(static_cast<bool>(p.transformer.make_ffn));
  EXPECT_NO_THROW(p.transformer.validate());
}

TEST(Presets, TinyPresetBuildsMoeBlocks) {
  const auto p = presets::tiny_moe();
  Generator gen(3);
  Transformer t(p.transformer, gen);
  int64_t expert_params = 0;
  for (const auto& [name, tensor] : t.named_parameters()) {
    if (name.find(".ffn.experts.") != std::string::npos) expert_params += tensor.numel();
  }
  // 4 blocks × 3 stacked SwiGLU projections of [8, 128, 256].
  EXPECT_EQ(expert_params, 4 * 3 * 8 * 128 * 256);
}

}  // namespace
}  // namespace chorus::nn
