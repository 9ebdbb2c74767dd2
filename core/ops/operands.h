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

// Throws unless every defined tensor is on one device, naming the op and the devices.
void require_same_device(const char* op, std::initializer_list<const Tensor*> tensors);

// The device of an elementwise op over `tensors`: the first one not on the host, else the
// CPU. Like PyTorch, 0-dim host tensors (scalars) may join tensors of any device; anything
// else must be on that device (throws naming the op).
Device common_device(const char* op, std::initializer_list<const Tensor*> tensors);

// `t` on `device` (no copy when it already is there). Not recorded by autograd.
Tensor to_device_raw(const Tensor& t, Device device);

// `t` as a contiguous host tensor, for front-ends that read values (index checks, offsets):
// `t` itself when it already is one, else a copy (which waits for the device).
Tensor host_raw(const Tensor& t);

// The dtype a kernel computes in for a result of `dtype`: f64 for f64 and integers, f32 for
// the other floats.
DType kernel_dtype(DType dtype);

}  // namespace chorus::ops_internal
