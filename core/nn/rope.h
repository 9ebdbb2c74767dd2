// Rotary position embedding (Su et al. 2021, RoFormer).
//
// Channel pairs of each head are rotated by an angle proportional to the token's position,
// so q·k depends on positions only through their difference. Pairing follows GPT-NeoX and
// LLaMA as published on Hugging Face ("rotate half"): channel i pairs with i + D/2, and pair i
// turns by pos·θ_i with θ_i = base^(-2i/D):
//   out[..., i]       = x[..., i]·cos − x[..., i + D/2]·sin
//   out[..., i + D/2] = x[..., i + D/2]·cos + x[..., i]·sin
// Angles and their cos/sin are computed in double; the rotation runs in f64 for f64 inputs and
// in f32 otherwise (bf16/f16 results are rounded back once). Differentiable in x (composed of
// differentiable ops).
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::nn {

// x [B, H, L, D] with D even (any strides); positions integer [L] (shared by the batch) or
// [B, L]. Returns a new tensor of x's shape and dtype.
Tensor apply_rope(const Tensor& x, const Tensor& positions, double base = 10000.0);
// Positions offset, offset + 1, ..., offset + L − 1.
Tensor apply_rope(const Tensor& x, int64_t offset = 0, double base = 10000.0);

}  // namespace chorus::nn
