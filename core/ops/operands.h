// Helpers that op front-ends share to turn user tensors into kernel operands. Internal to
// core/ops (not part of the public API).
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::ops_internal {

// `t` converted to `dtype` (no copy when it already is). Not recorded by autograd.
Tensor cast_raw(const Tensor& t, DType dtype);

// `t` converted to `dtype` and broadcast (as a stride-0 view) to `shape`.
Tensor broadcast_raw(const Tensor& t, const Shape& shape, DType dtype);

// `t` as a contiguous tensor of `dtype` (copies only when needed). Not recorded.
Tensor contiguous_raw(const Tensor& t, DType dtype);

// Throws unless every defined tensor is on the CPU: used by front-ends whose CUDA kernels
// do not exist yet, so that the error names the op.
void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors);

// The dtype a kernel computes in for a result of `dtype`: f64 for f64 and integers, f32 for
// the other floats.
DType kernel_dtype(DType dtype);

}  // namespace chorus::ops_internal
