// Status checking for CUDA runtime calls inside core/ops/cuda. Every failure becomes a
// chorus::Error naming the call, the op and (through the extra message parts) the shapes.
#pragma once

#include <cuda_runtime.h>

#include "core/tensor/error.h"

namespace chorus::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line,
                                   const std::string& context);

// After launching kernels for `op`: throws if the launch failed (bad configuration, no
// kernel image for this GPU). Asynchronous faults surface at the next synchronising call.
void check_launch(const char* op, const std::string& context = {});

}  // namespace chorus::cuda

// CHORUS_CUDA_CHECK(call, context parts...): the parts (op name, shapes) are joined only on
// failure.
#define CHORUS_CUDA_CHECK(call, ...)                                                             \
  do {                                                                                           \
    const cudaError_t chorus_cuda_status_ = (call);                                              \
    if (chorus_cuda_status_ != cudaSuccess) [[unlikely]] {                                       \
      ::chorus::cuda::throw_cuda_error(chorus_cuda_status_, #call, __FILE__, __LINE__,           \
                                       ::chorus::detail::concat("" __VA_OPT__(, ) __VA_ARGS__)); \
    }                                                                                            \
  } while (0)
