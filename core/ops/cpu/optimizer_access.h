// Element access shared by the fused optimizer kernels (adamw_kernels, sgd_kernels).
//
// An optimizer update reads a gradient that may be stored in any of f32, f64, bf16 or f16 and,
// for mixed precision, writes the updated fp32 master value rounded into a bf16/f16 model
// parameter. Converting per element inside the update loop (instead of casting whole tensors
// first) is what makes the update a single pass over memory.
#pragma once

#include <cstdint>

#include "core/tensor/float_formats.h"
#include "core/tensor/tensor.h"

namespace chorus::cpu::optim_access {

// Calls `body(load)` with `load(i)` returning element i of the contiguous gradient as T.
template <class T, class Body>
void with_grad_loader(const Tensor& grad, Body&& body) {
  const void* base = grad.raw_data();
  switch (grad.dtype()) {
    case DType::kF32: {
      const float* g = static_cast<const float*>(base);
      return body([g](int64_t i) { return static_cast<T>(g[i]); });
    }
    case DType::kF64: {
      const double* g = static_cast<const double*>(base);
      return body([g](int64_t i) { return static_cast<T>(g[i]); });
    }
    case DType::kBF16: {
      const uint16_t* g = static_cast<const uint16_t*>(base);
      return body([g](int64_t i) { return static_cast<T>(bf16_to_float(g[i])); });
    }
    case DType::kF16: {
      const uint16_t* g = static_cast<const uint16_t*>(base);
      return body([g](int64_t i) { return static_cast<T>(f16_to_float(g[i])); });
    }
    default:
      CHORUS_CHECK(false, "optimizer kernel: gradient dtype ", dtype_name(grad.dtype()),
                   " must be cast by the front-end");
  }
}

// Calls `body(store)` with `store(i, value)` writing the updated master value into the
// low-precision model parameter (rounded to nearest even), or doing nothing when `model` is
// undefined (the parameter was updated in place).
template <class T, class Body>
void with_model_store(const Tensor& model, Body&& body) {
  if (!model.defined()) return body([](int64_t, T) {});
  uint16_t* out = static_cast<uint16_t*>(model.raw_data());
  switch (model.dtype()) {
    case DType::kBF16:
      return body([out](int64_t i, T v) { out[i] = float_to_bf16(static_cast<float>(v)); });
    case DType::kF16:
      return body([out](int64_t i, T v) { out[i] = float_to_f16(static_cast<float>(v)); });
    default:
      CHORUS_CHECK(false, "optimizer kernel: model parameter dtype ", dtype_name(model.dtype()),
                   " (expected bf16 or f16)");
  }
}

// Iterations per thread chunk: the update is a few flops per element and memory bound, so
// chunks smaller than plain elementwise ops still pay for their thread.
inline constexpr int64_t kOptimizerGrain = 16384;

}  // namespace chorus::cpu::optim_access
