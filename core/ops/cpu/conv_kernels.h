// 2-D convolution on the CPU by im2col + GEMM (1-D convolution is the H = 1 case).
//
// For each sample and group, the input patches are unrolled into a [C/g·kh·kw, oh·ow] matrix
// ("col") and the convolution becomes W_g[O/g, C/g·kh·kw] · col. 1×1 convolutions with unit
// stride and no padding skip the unrolling: the input plane is already that matrix.
// When each GEMM is small, samples are spread over the thread pool (each thread with its own
// col buffer); otherwise samples run one after another and OpenBLAS threads each GEMM.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::cpu {

struct ConvGeometry {
  int64_t batch = 0, in_channels = 0, height = 0, width = 0;
  int64_t out_channels = 0, kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  int64_t out_h = 0, out_w = 0;

  int64_t group_in() const { return in_channels / groups; }
  int64_t group_out() const { return out_channels / groups; }
  int64_t patch() const { return group_in() * kernel_h * kernel_w; }  // rows of col
  int64_t pixels() const { return out_h * out_w; }                    // columns of col
  // 1×1, unit stride, no padding: the input plane is the col matrix itself.
  bool direct() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 &&
           pad_w == 0;
  }
};

// All tensors contiguous, f32 or f64: x [N, C, H, W], w [O, C/g, kh, kw], bias [O] or
// undefined, out [N, O, oh, ow].
void conv2d_forward(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const ConvGeometry& g);
// grad_x [N, C, H, W] (overwritten) from grad_out [N, O, oh, ow].
void conv2d_backward_input(const Tensor& grad_x, const Tensor& grad_out, const Tensor& w,
                           const ConvGeometry& g);
// grad_w [O, C/g, kh, kw] (overwritten) from grad_out and x.
void conv2d_backward_weight(const Tensor& grad_w, const Tensor& grad_out, const Tensor& x,
                            const ConvGeometry& g);

}  // namespace chorus::cpu
