// Dispatch macros for kernels that must handle integer tensors too (indexing, sorting, scans),
// where CHORUS_DISPATCH_FLOAT (f32/f64 only) is not enough.
//
// CHORUS_DISPATCH_REAL(dtype, T, body): T in {float, double, int8_t, uint8_t, int32_t,
//   int64_t}; bool is handled as uint8_t (values 0/1). Reduced-precision floats are not
//   accepted: front-ends compute them in f32.
// CHORUS_DISPATCH_BY_SIZE(itemsize, T, body): T is an unsigned integer of the element's width,
//   for kernels that only move elements (gather, index_select) and so work for every dtype.
#pragma once

#include <cstdint>

#include "core/tensor/dtype.h"
#include "core/tensor/error.h"

#define CHORUS_DISPATCH_REAL(DTYPE, SCALAR, ...)                                 \
  [&] {                                                                          \
    switch (DTYPE) {                                                             \
      case ::chorus::DType::kF32: {                                              \
        using SCALAR = float;                                                    \
        return __VA_ARGS__();                                                    \
      }                                                                          \
      case ::chorus::DType::kF64: {                                              \
        using SCALAR = double;                                                   \
        return __VA_ARGS__();                                                    \
      }                                                                          \
      case ::chorus::DType::kI8: {                                               \
        using SCALAR = int8_t;                                                   \
        return __VA_ARGS__();                                                    \
      }                                                                          \
      case ::chorus::DType::kU8:                                                 \
      case ::chorus::DType::kBool: {                                             \
        using SCALAR = uint8_t;                                                  \
        return __VA_ARGS__();                                                    \
      }                                                                          \
      case ::chorus::DType::kI32: {                                              \
        using SCALAR = int32_t;                                                  \
        return __VA_ARGS__();                                                    \
      }                                                                          \
      case ::chorus::DType::kI64: {                                              \
        using SCALAR = int64_t;                                                  \
        return __VA_ARGS__();                                                    \
      }                                                                          \
      default:                                                                   \
        CHORUS_CHECK(false, "kernel expects f32, f64 or an integer dtype, got ", \
                     ::chorus::dtype_name(DTYPE));                               \
    }                                                                            \
  }()

#define CHORUS_DISPATCH_BY_SIZE(ITEMSIZE, SCALAR, ...)                  \
  [&] {                                                                 \
    switch (ITEMSIZE) {                                                 \
      case 1: {                                                         \
        using SCALAR = uint8_t;                                         \
        return __VA_ARGS__();                                           \
      }                                                                 \
      case 2: {                                                         \
        using SCALAR = uint16_t;                                        \
        return __VA_ARGS__();                                           \
      }                                                                 \
      case 4: {                                                         \
        using SCALAR = uint32_t;                                        \
        return __VA_ARGS__();                                           \
      }                                                                 \
      case 8: {                                                         \
        using SCALAR = uint64_t;                                        \
        return __VA_ARGS__();                                           \
      }                                                                 \
      default:                                                          \
        CHORUS_CHECK(false, "no element type of ", ITEMSIZE, " bytes"); \
    }                                                                   \
  }()
