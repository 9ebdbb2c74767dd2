// Turns Tensors into the plain operand descriptions of launch.h (host compiler side).
#pragma once

#include <initializer_list>
#include <string>

#include "core/ops/cuda/launch.h"
#include "core/tensor/tensor.h"

namespace chorus::cuda {

// Coalesces `shape` for the given tensors (each viewable with `shape`, e.g. broadcast) and
// fills one Operand per tensor, in order. Size-1 dims are dropped and dims that are
// contiguous in every tensor merged. Throws if more than kMaxDims dims remain.
Geometry make_geometry(const Shape& shape, std::initializer_list<const Tensor*> tensors,
                       Operand* operands);

// The device index of `t`, after checking it is a valid CUDA device (names `op`).
int device_index(const Tensor& t, const char* op);

// "op(f32[2, 3], bf16[4])": the context of an error message.
std::string describe(const char* op, std::initializer_list<const Tensor*> tensors);

}  // namespace chorus::cuda
