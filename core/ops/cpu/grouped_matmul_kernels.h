// CPU kernels behind core/ops/grouped_matmul.h: one BLAS GEMM per non-empty group. The
// front-end validates shapes and offsets; kernels trust them. All tensors are contiguous and
// share dtype f32 or f64; `offsets` points at E + 1 host values.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// out[T, f]: rows of group e = x_e [n_e, d] · w[e] [d, f].
void grouped_matmul_forward(const Tensor& out, const Tensor& x, const Tensor& w,
                            const int64_t* offsets);

// dx[T, d]: rows of group e = g_e [n_e, f] · w[e]ᵀ.
void grouped_matmul_backward_input(const Tensor& dx, const Tensor& g, const Tensor& w,
                                   const int64_t* offsets);

// dw[E, d, f]: dw[e] = x_eᵀ · g_e, zero for an empty group.
void grouped_matmul_backward_weight(const Tensor& dw, const Tensor& x, const Tensor& g,
                                    const int64_t* offsets);

}  // namespace chorus::cpu
