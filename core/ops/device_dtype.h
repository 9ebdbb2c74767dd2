// The dtype the matrix kernels (matmul, attention, convolution) and the elementwise unary and
// binary kernels compute in, per device.
//
// The CPU kernels widen bf16/f16 to f32 (and the result is rounded back once). The CUDA
// backend's cuBLASLt/cuDNN kernels take bf16/f16 natively, with f32 accumulation (its elementwise
// kernels widen each element to f32 in registers), so on a CUDA
// device those dtypes stay as they are: widening would cost a pass over every operand and the
// tensor cores. The CUDA registrations switch this on at load; without them (a CPU build, or a
// stand-in device in tests) every device widens, as the CPU kernels that then run expect.
#pragma once

#include "core/tensor/device.h"
#include "core/tensor/dtype.h"

namespace chorus::ops_internal {

DType device_kernel_dtype(DType dtype, Device device);

// Called by the CUDA registrations (core/ops/cuda/blas, core/ops/cuda/dnn) at static init.
bool enable_native_half_kernels();

}  // namespace chorus::ops_internal
