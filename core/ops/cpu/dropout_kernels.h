// CPU kernels behind core/ops/dropout.h. Tensors are contiguous; x/out/g/gx in the compute
// dtype (f32/f64), mask bool.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// Element i is kept iff uniform_from_word(philox_word(seed, offset, i)) >= p (core/tensor/
// philox.h): mask[i] = kept, out[i] = kept ? x[i]·scale : 0. A pure function of
// (seed, offset, i), so any backend reproduces the same mask.
void dropout_forward(const Tensor& out, const Tensor& mask, const Tensor& x, double p, double scale,
                     uint64_t seed, uint64_t offset);

// gx[i] = mask[i] ? g[i]·scale : 0.
void dropout_backward(const Tensor& gx, const Tensor& g, const Tensor& mask, double scale);

}  // namespace chorus::cpu
