// Launchers of the pooling kernels (pool_kernels.cu): the CPU kernels of cpu/pool_kernels.h
// on contiguous [planes, H, W] f32 or f64 buffers (the front-end computes half types in f32).
// Forward kernels run one thread per output element, backward kernels one thread per input
// element that gathers, in increasing output order, the outputs whose window holds it: the
// CPU's scatter order, so gradients are bitwise equal to the CPU's and need no atomics.
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

// cpu::PoolGeometry as plain data.
struct PoolShape {
  int64_t planes = 0, height = 0, width = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

enum class PoolKind { kAvg, kAvgIncludePad, kAdaptive };

// out/indices [planes, out_h, out_w]: window maximum and its in-plane position iy·W + ix (the
// first on ties, the last NaN wins, -1 for a window entirely in padding).
void launch_max_pool_forward(bool f64, void* out, int64_t* indices, const void* x,
                             const PoolShape& g, StreamHandle stream);
// grad_x [planes, H, W] (overwritten) = Σ grad_out over the outputs whose index points at it.
void launch_max_pool_backward(bool f64, void* grad_x, const void* grad_out, const int64_t* indices,
                              const PoolShape& g, StreamHandle stream);
// Window mean (average pooling with or without padding in the divisor, or adaptive windows).
void launch_avg_pool_forward(bool f64, PoolKind kind, void* out, const void* x, const PoolShape& g,
                             StreamHandle stream);
void launch_avg_pool_backward(bool f64, PoolKind kind, void* grad_x, const void* grad_out,
                              const PoolShape& g, StreamHandle stream);

}  // namespace chorus::cuda
