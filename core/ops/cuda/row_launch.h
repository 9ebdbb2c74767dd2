// Launchers of the row kernels (softmax_kernels.cu, norm_kernels.cu): softmax, layer_norm,
// rms_norm. `io` is the dtype of the big operands (f32, f64 or bf16); weights, biases and
// statistics are in the compute dtype (f64 for f64 io, else f32). Pointers of absent operands are
// null.
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

void launch_softmax_forward(DType io, void* y, const void* x, int64_t outer, int64_t n,
                            int64_t inner, bool log, StreamHandle stream);
void launch_softmax_backward(DType io, void* gx, const void* g, const void* y, int64_t outer,
                             int64_t n, int64_t inner, bool log, StreamHandle stream);

// rms: mean is null and the mean term is dropped.
void launch_norm_forward(bool rms, DType io, void* y, void* mean, void* rstd, const void* x,
                         const void* weight, const void* bias, int64_t rows, int64_t d, double eps,
                         StreamHandle stream);
// gx may be null (not wanted); gweight/gbias (may be null) are written, not accumulated.
// `workspace` holds at least norm_backward_workspace(d) bytes of device memory.
void launch_norm_backward(bool rms, DType io, void* gx, void* gweight, void* gbias, const void* g,
                          const void* x, const void* mean, const void* rstd, const void* weight,
                          int64_t rows, int64_t d, void* workspace, StreamHandle stream);
int64_t norm_backward_workspace(bool f64, int64_t rows, int64_t d);

}  // namespace chorus::cuda
