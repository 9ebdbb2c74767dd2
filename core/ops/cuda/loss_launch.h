// Launchers of the fused cross-entropy kernels (loss_kernels.cu). Logits (and their
// gradient) are contiguous [n, c] in f32, f64 or bf16; targets contiguous i64 [n]; loss, lse
// and grad in the compute dtype (f64 for f64 logits, else f32).
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

void launch_cross_entropy_forward(DType io, void* loss, void* lse, const void* logits,
                                  const int64_t* targets, int64_t n, int64_t c,
                                  int64_t ignore_index, double smoothing, StreamHandle stream);
// grad has n elements (per_row) or one.
void launch_cross_entropy_backward(DType io, void* gx, const void* grad, bool per_row,
                                   double factor, const void* logits, const int64_t* targets,
                                   const void* lse, int64_t n, int64_t c, int64_t ignore_index,
                                   double smoothing, StreamHandle stream);

}  // namespace chorus::cuda
