// Plain-data operand descriptions passed from the Tensor-side wrappers (.cc, compiled by the
// host compiler) to the kernel launchers (.cu, compiled by nvcc). Keeping Tensor and absl out
// of the .cu files keeps nvcc's work small and its front-end away from host-only headers.
#pragma once

#include <cstdint>

#include "core/ops/cuda/runtime.h"
#include "core/tensor/dtype.h"

namespace chorus::cuda {

inline constexpr int kMaxDims = 8;

// The (coalesced) iteration shape shared by the operands of an elementwise kernel.
struct Geometry {
  int ndim = 0;
  int64_t numel = 0;
  int64_t sizes[kMaxDims] = {};
};

// One operand: the address of its first element and its strides in elements.
struct Operand {
  void* data = nullptr;
  int64_t strides[kMaxDims] = {};
  bool contiguous = false;  // strides are the row-major strides of the geometry
};

}  // namespace chorus::cuda
