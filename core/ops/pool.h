// Pooling over NCHW (2-D) and NCL (1-D) tensors, like torch.nn.functional's (floor mode, no
// ceil_mode). Inputs may also be unbatched ([C, H, W] / [C, L]). All are differentiable.
// A stride of 0 means "equal to the kernel size" (PyTorch's default).
#pragma once

#include <array>

#include "core/ops/reduce.h"
#include "core/tensor/tensor.h"

namespace chorus {

using Size2 = std::array<int64_t, 2>;  // (h, w)

// Window maximum. Padding (at most half the kernel) never wins; NaN propagates.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0},
                  Size2 dilation = {1, 1});
// Also returns, for each output, the flat index iy·W + ix of the maximum within its plane
// (i64), as torch's return_indices=True does.
ValuesIndices max_pool2d_with_indices(const Tensor& x, Size2 kernel, Size2 stride = {0, 0},
                                      Size2 padding = {0, 0}, Size2 dilation = {1, 1});

// Window mean. count_include_pad: padding zeros count in the divisor (PyTorch's default).
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0},
                  bool count_include_pad = true);

// Mean over PyTorch's adaptive windows: output (oy, ox) covers rows
// [⌊oy·H/oh⌋, ⌈(oy+1)·H/oh⌉) and likewise columns.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);

// 1-D versions over the last dim (the 2-D ops on a height-1 image).
Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0,
                  int64_t dilation = 1);
ValuesIndices max_pool1d_with_indices(const Tensor& x, int64_t kernel, int64_t stride = 0,
                                      int64_t padding = 0, int64_t dilation = 1);
Tensor avg_pool1d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0,
                  bool count_include_pad = true);
Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size);

}  // namespace chorus
