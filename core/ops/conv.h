// Convolutions (cross-correlation, like PyTorch) over NCHW / NCL tensors, differentiable in
// input, weight and bias. Computed by im2col + GEMM (core/ops/cpu/conv_kernels.h).
#pragma once

#include <array>

#include "core/tensor/tensor.h"

namespace chorus {

struct Conv2dOptions {
  std::array<int64_t, 2> stride{1, 1};    // (h, w)
  std::array<int64_t, 2> padding{0, 0};   // zeros added on both sides
  std::array<int64_t, 2> dilation{1, 1};  // spacing between kernel taps
  int64_t groups = 1;                     // channels split into independent groups
};

// x [N, C, H, W] (or unbatched [C, H, W]), weight [O, C/groups, kh, kw], bias [O] or
// undefined -> [N, O, oh, ow] with oh = (H + 2·pad − dilation·(kh − 1) − 1) / stride + 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dOptions& options = {});

struct Conv1dOptions {
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
};

// x [N, C, L] (or [C, L]), weight [O, C/groups, k], bias [O] or undefined -> [N, O, oL].
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv1dOptions& options = {});

}  // namespace chorus
