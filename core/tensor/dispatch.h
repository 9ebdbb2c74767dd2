// Maps a runtime DType to a C++ type for kernel templates, and loads/stores any dtype as
// double or float (slow paths, conversions).
#pragma once

#include <cstdint>

#include "core/tensor/dtype.h"
#include "core/tensor/error.h"
#include "core/tensor/float_formats.h"

namespace chorus {

// Reads element `i` of a buffer of `dtype` as double.
inline double load_as_double(const void* base, int64_t i, DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return static_cast<const float*>(base)[i];
    case DType::kF64:
      return static_cast<const double*>(base)[i];
    case DType::kBF16:
      return bf16_to_float(static_cast<const uint16_t*>(base)[i]);
    case DType::kF16:
      return f16_to_float(static_cast<const uint16_t*>(base)[i]);
    case DType::kF8E4M3:
      return fp8e4m3_to_float(static_cast<const uint8_t*>(base)[i]);
    case DType::kF8E5M2:
      return fp8e5m2_to_float(static_cast<const uint8_t*>(base)[i]);
    case DType::kI8:
      return static_cast<const int8_t*>(base)[i];
    case DType::kU8:
      return static_cast<const uint8_t*>(base)[i];
    case DType::kI32:
      return static_cast<const int32_t*>(base)[i];
    case DType::kI64:
      return static_cast<double>(static_cast<const int64_t*>(base)[i]);
    case DType::kBool:
      return static_cast<const uint8_t*>(base)[i] != 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

// Writes `v` as element `i` of a buffer of `dtype` (integers truncate toward zero, bool is v!=0).
inline void store_from_double(void* base, int64_t i, DType dtype, double v) {
  switch (dtype) {
    case DType::kF32:
      static_cast<float*>(base)[i] = static_cast<float>(v);
      break;
    case DType::kF64:
      static_cast<double*>(base)[i] = v;
      break;
    case DType::kBF16:
      static_cast<uint16_t*>(base)[i] = float_to_bf16(static_cast<float>(v));
      break;
    case DType::kF16:
      static_cast<uint16_t*>(base)[i] = float_to_f16(static_cast<float>(v));
      break;
    case DType::kF8E4M3:
      static_cast<uint8_t*>(base)[i] = float_to_fp8e4m3(static_cast<float>(v));
      break;
    case DType::kF8E5M2:
      static_cast<uint8_t*>(base)[i] = float_to_fp8e5m2(static_cast<float>(v));
      break;
    case DType::kI8:
      static_cast<int8_t*>(base)[i] = static_cast<int8_t>(v);
      break;
    case DType::kU8:
      static_cast<uint8_t*>(base)[i] = static_cast<uint8_t>(v);
      break;
    case DType::kI32:
      static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v);
      break;
    case DType::kI64:
      static_cast<int64_t*>(base)[i] = static_cast<int64_t>(v);
      break;
    case DType::kBool:
      static_cast<uint8_t*>(base)[i] = v != 0.0 ? 1 : 0;
      break;
  }
}

}  // namespace chorus

// CHORUS_DISPATCH_FLOAT(dtype, scalar_t, body): runs `body` with scalar_t = float or double.
// Kernels compute in f32 or f64 only; front-ends convert reduced-precision inputs first.
#define CHORUS_DISPATCH_FLOAT(DTYPE, SCALAR, ...)                                            \
  [&] {                                                                                      \
    switch (DTYPE) {                                                                         \
      case ::chorus::DType::kF32: {                                                          \
        using SCALAR = float;                                                                \
        return __VA_ARGS__();                                                                \
      }                                                                                      \
      case ::chorus::DType::kF64: {                                                          \
        using SCALAR = double;                                                               \
        return __VA_ARGS__();                                                                \
      }                                                                                      \
      default:                                                                               \
        CHORUS_CHECK(false, "kernel expects f32 or f64, got ", ::chorus::dtype_name(DTYPE)); \
    }                                                                                        \
  }()
