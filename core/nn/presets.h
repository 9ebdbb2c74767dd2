// Shipped model presets. The seed configuration of the project (DESIGN.md: 64 experts, top-2
// routing, a 2048-wide shared space) is the default MoE preset; tests and the CPU demos use
// the tiny one.
#pragma once

#include "core/nn/moe/moe.h"
#include "core/nn/transformer_config.h"

namespace chorus::nn::presets {

struct MoeTransformerPreset {
  TransformerConfig transformer;  // make_ffn builds MoE layers from `moe`
  moe::MoeConfig moe;
};

// width 2048, 24 blocks, 16 heads, every FFN an MoE of 64 SwiGLU experts (hidden 1408) with
// top-2 routing, aux loss 0.01 and z-loss 1e-3.
MoeTransformerPreset seed_moe();

// The same shape scaled down for CPU runs and tests: width 128, 4 blocks, 8 experts, top-2.
MoeTransformerPreset tiny_moe();

}  // namespace chorus::nn::presets
