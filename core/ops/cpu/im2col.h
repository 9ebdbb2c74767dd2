// Unrolling image patches into a matrix (im2col) and scattering it back (col2im), the two
// halves of convolution-as-GEMM. Internal to core/ops/cpu.
#pragma once

#include "core/ops/cpu/conv_kernels.h"

namespace chorus::cpu {

// image: one group's channels of one sample, [C/g, H, W] contiguous. col: [C/g·kh·kw, oh·ow]
// with row (c, ki, kj) holding the input seen by kernel tap (ki, kj) of channel c at every
// output pixel (0 where the tap falls into the padding). Rows are spread over the pool.
template <class T>
void im2col(const T* image, T* col, const ConvGeometry& g);

// The adjoint: image[c, iy, ix] += every col entry that im2col would have read from there.
// Channels are spread over the pool (each channel's pixels are written by one thread).
template <class T>
void col2im_add(const T* col, T* image, const ConvGeometry& g);

}  // namespace chorus::cpu
