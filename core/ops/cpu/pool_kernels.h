// Pooling kernels over contiguous [planes, H, W] inputs (planes = N·C), f32 or f64. Each
// plane is independent, so planes are spread over the thread pool.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::cpu {

struct PoolGeometry {
  int64_t planes = 0, height = 0, width = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;  // max pooling only
};

// out [planes, oh, ow]; indices (i64, same shape) = iy·W + ix of each maximum within its
// plane (the first one on ties; NaN wins, so NaN propagates like in PyTorch).
void max_pool2d_forward(const Tensor& out, const Tensor& indices, const Tensor& x,
                        const PoolGeometry& g);
// grad_x (overwritten) receives each grad_out element at its index.
void max_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out, const Tensor& indices,
                         const PoolGeometry& g);

// Window mean. With count_include_pad the divisor counts padding positions (kh·kw), else only
// the positions inside the input.
void avg_pool2d_forward(const Tensor& out, const Tensor& x, const PoolGeometry& g,
                        bool count_include_pad);
void avg_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out, const PoolGeometry& g,
                         bool count_include_pad);

// Output cell (oy, ox) averages rows [⌊oy·H/oh⌋, ⌈(oy+1)·H/oh⌉) and the same for columns
// (PyTorch's adaptive windows; they may overlap). Uses planes, height, width, out_h, out_w.
void adaptive_avg_pool2d_forward(const Tensor& out, const Tensor& x, const PoolGeometry& g);
void adaptive_avg_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out,
                                  const PoolGeometry& g);

}  // namespace chorus::cpu
