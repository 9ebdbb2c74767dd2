// Launchers of dropout, embedding and indexing kernels (index_kernels.cu).
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

// Same Philox stream as the CPU: element i is kept iff (philox_word(seed, offset, i) >> 8)
// >= threshold. x/out are contiguous f32 (f64 = false) or f64; mask is bool.
void launch_dropout_forward(bool f64, void* out, uint8_t* mask, const void* x, int64_t n,
                            uint32_t threshold, double scale, uint64_t seed, uint64_t offset,
                            StreamHandle stream);
void launch_dropout_backward(bool f64, void* gx, const void* g, const uint8_t* mask, int64_t n,
                             double scale, StreamHandle stream);

// out[i, :] = weight[idx[i], :] (rows of `row_bytes` bytes).
void launch_embedding_forward(void* out, const void* weight, const int64_t* idx, int64_t n,
                              int64_t row_bytes, StreamHandle stream);
// gweight (zeroed by the caller) += g rows at idx, skipping padding_idx (f32 or f64).
void launch_embedding_backward(bool f64, void* gweight, const void* g, const int64_t* idx,
                               int64_t n, int64_t d, int64_t padding_idx, StreamHandle stream);

// Gather/scatter over `geo` (the index's shape). Operands: out, index, and x (or the scatter
// target) viewed with stride 0 along the indexed dim; `dim_stride` is that dim's real stride.
void launch_gather(size_t itemsize, const Geometry& geo, const Operand& out, const Operand& index,
                   const Operand& x, int64_t dim_stride, StreamHandle stream);
void launch_scatter_add(DType dtype, const Geometry& geo, const Operand& out, const Operand& index,
                        const Operand& src, int64_t dim_stride, StreamHandle stream);
// Contiguous [outer, n, inner] / [outer, k, inner] with a 1-D index of length k.
void launch_index_select(size_t itemsize, void* out, const void* x, const int64_t* idx,
                         int64_t outer, int64_t n, int64_t k, int64_t inner, StreamHandle stream);
void launch_index_add(DType dtype, void* out, const void* src, const int64_t* idx, int64_t outer,
                      int64_t n, int64_t k, int64_t inner, StreamHandle stream);
// Whether launch_scatter_add / launch_index_add support `dtype` (atomics exist for it).
bool atomic_add_supported(DType dtype);

}  // namespace chorus::cuda
