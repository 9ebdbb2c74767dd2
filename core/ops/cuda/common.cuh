// Device-side helpers shared by the kernels of core/ops/cuda (nvcc only).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

inline constexpr int kBlock = 256;

inline unsigned grid_for(int64_t n, int block = kBlock) {
  int64_t g = (n + block - 1) / block;
  if (g < 1) g = 1;
  if (g > 65535LL * 32) g = 65535LL * 32;  // grid-stride loops cover the rest
  return static_cast<unsigned>(g);
}

// Whether element counts up to n can use 32-bit index math (several times cheaper divisions).
inline bool fits_32(int64_t n) { return n < (int64_t{1} << 31); }

// Calls launch.template operator()<T, I>() with T = double (f64) or float and I = uint32_t
// (narrow: every index of the launch fits in 32 bits) or int64_t: the f32/f64 x index-width
// dispatch of kernels that take their value type and index type as template parameters, e.g.
//   with_value_and_index_types(f64, fits_32(total), [&]<class T, class I>() { k<T,
//   I><<<...>>>(...); });
template <class Launch>
void with_value_and_index_types(bool f64, bool narrow, Launch&& launch) {
  if (f64 && narrow) {
    launch.template operator()<double, uint32_t>();
  } else if (f64) {
    launch.template operator()<double, int64_t>();
  } else if (narrow) {
    launch.template operator()<float, uint32_t>();
  } else {
    launch.template operator()<float, int64_t>();
  }
}

// Offset (in elements) of linear index i of `geo` in an operand with `strides`.
__device__ __forceinline__ int64_t strided_offset(const Geometry& geo, const int64_t* strides,
                                                  int64_t i) {
  int64_t off = 0;
  if (geo.numel <= 0x7fffffff) {  // 32-bit division is several times cheaper than 64-bit
    uint32_t k = static_cast<uint32_t>(i);
    for (int d = geo.ndim - 1; d >= 0; --d) {
      const uint32_t s = static_cast<uint32_t>(geo.sizes[d]);
      off += static_cast<int64_t>(k % s) * strides[d];
      k /= s;
    }
    return off;
  }
  for (int d = geo.ndim - 1; d >= 0; --d) {
    const int64_t s = geo.sizes[d];
    off += (i % s) * strides[d];
    i /= s;
  }
  return off;
}

__device__ __forceinline__ int64_t operand_offset(const Geometry& geo, const Operand& op,
                                                  int64_t i) {
  return op.contiguous ? i : strided_offset(geo, op.strides, i);
}

// Element access for every dtype through float (f32, f16, bf16, fp8) or double.
template <class T>
struct Io;
template <>
struct Io<float> {
  __device__ static float load(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
  __device__ static void store(void* p, int64_t i, float v) { static_cast<float*>(p)[i] = v; }
};
template <>
struct Io<double> {
  __device__ static double load(const void* p, int64_t i) {
    return static_cast<const double*>(p)[i];
  }
  __device__ static void store(void* p, int64_t i, double v) { static_cast<double*>(p)[i] = v; }
};

__device__ __forceinline__ float bf16_bits_to_float(uint16_t b) {
  return __uint_as_float(static_cast<uint32_t>(b) << 16);
}
// Round half to even; NaN stays a quiet NaN (bit-identical to float_to_bf16 on the host).
__device__ __forceinline__ uint16_t float_to_bf16_bits(float f) {
  const uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}
__device__ __forceinline__ float f16_bits_to_float(uint16_t b) {
  return __half2float(__ushort_as_half(b));
}
__device__ __forceinline__ uint16_t float_to_f16_bits(float f) {
  return __half_as_ushort(__float2half_rn(f));
}

// Loads element i of a buffer of `dtype` as double (every dtype; slow generic path).
__device__ inline double load_any(const void* p, int64_t i, DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return static_cast<const float*>(p)[i];
    case DType::kF64:
      return static_cast<const double*>(p)[i];
    case DType::kBF16:
      return bf16_bits_to_float(static_cast<const uint16_t*>(p)[i]);
    case DType::kF16:
      return f16_bits_to_float(static_cast<const uint16_t*>(p)[i]);
    case DType::kF8E4M3:
      return __half2float(
          __half(__nv_cvt_fp8_to_halfraw(static_cast<const __nv_fp8_storage_t*>(p)[i], __NV_E4M3)));
    case DType::kF8E5M2:
      return __half2float(
          __half(__nv_cvt_fp8_to_halfraw(static_cast<const __nv_fp8_storage_t*>(p)[i], __NV_E5M2)));
    case DType::kI8:
      return static_cast<const int8_t*>(p)[i];
    case DType::kU8:
      return static_cast<const uint8_t*>(p)[i];
    case DType::kI32:
      return static_cast<const int32_t*>(p)[i];
    case DType::kI64:
      return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DType::kBool:
      return static_cast<const uint8_t*>(p)[i] != 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

__device__ inline void store_any(void* p, int64_t i, DType dtype, double v) {
  switch (dtype) {
    case DType::kF32:
      static_cast<float*>(p)[i] = static_cast<float>(v);
      break;
    case DType::kF64:
      static_cast<double*>(p)[i] = v;
      break;
    case DType::kBF16:
      static_cast<uint16_t*>(p)[i] = float_to_bf16_bits(static_cast<float>(v));
      break;
    case DType::kF16:
      static_cast<uint16_t*>(p)[i] = float_to_f16_bits(static_cast<float>(v));
      break;
    case DType::kF8E4M3:
      static_cast<__nv_fp8_storage_t*>(p)[i] =
          __nv_cvt_float_to_fp8(static_cast<float>(v), __NV_SATFINITE, __NV_E4M3);
      break;
    case DType::kF8E5M2:
      static_cast<__nv_fp8_storage_t*>(p)[i] =
          __nv_cvt_float_to_fp8(static_cast<float>(v), __NV_SATFINITE, __NV_E5M2);
      break;
    case DType::kI8:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
      break;
    case DType::kU8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v);
      break;
    case DType::kI32:
      static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v);
      break;
    case DType::kI64:
      static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v);
      break;
    case DType::kBool:
      static_cast<uint8_t*>(p)[i] = v != 0.0 ? 1 : 0;
      break;
  }
}

// Row I/O for the row kernels (norms, softmax, cross-entropy): T is the storage type
// (float, double, or uint16_t holding bf16 bits); A the accumulation type.
template <class T>
struct RowIo {
  __device__ static float load(const T* p, int64_t i) { return static_cast<float>(p[i]); }
  __device__ static void store(T* p, int64_t i, float v) { p[i] = static_cast<T>(v); }
};
template <>
struct RowIo<double> {
  __device__ static double load(const double* p, int64_t i) { return p[i]; }
  __device__ static void store(double* p, int64_t i, double v) { p[i] = v; }
};
template <>
struct RowIo<uint16_t> {
  __device__ static float load(const uint16_t* p, int64_t i) { return bf16_bits_to_float(p[i]); }
  __device__ static void store(uint16_t* p, int64_t i, float v) { p[i] = float_to_bf16_bits(v); }
};

// 16-byte loads and stores of a row: 8 bf16 (uint16_t bits), 4 f32 or 2 f64 at index j
// (a multiple of kWidth, 16-byte aligned), widened to / rounded from the compute type.
template <class T>
struct Vec16;
template <>
struct Vec16<uint16_t> {
  static constexpr int kWidth = 8;
  __device__ static void load(const uint16_t* p, int64_t j, float* out) {
    const uint4 v = *reinterpret_cast<const uint4*>(p + j);
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      out[2 * k] = __uint_as_float(w[k] << 16);
      out[2 * k + 1] = __uint_as_float(w[k] & 0xffff0000u);
    }
  }
  __device__ static void store(uint16_t* p, int64_t j, const float* in) {
    uint4 v;
    uint32_t* w = reinterpret_cast<uint32_t*>(&v);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      w[k] = float_to_bf16_bits(in[2 * k]) | (uint32_t{float_to_bf16_bits(in[2 * k + 1])} << 16);
    }
    *reinterpret_cast<uint4*>(p + j) = v;
  }
};
template <>
struct Vec16<float> {
  static constexpr int kWidth = 4;
  __device__ static void load(const float* p, int64_t j, float* out) {
    const float4 v = *reinterpret_cast<const float4*>(p + j);
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
  }
  __device__ static void store(float* p, int64_t j, const float* in) {
    *reinterpret_cast<float4*>(p + j) = make_float4(in[0], in[1], in[2], in[3]);
  }
};
template <>
struct Vec16<double> {
  static constexpr int kWidth = 2;
  __device__ static void load(const double* p, int64_t j, double* out) {
    const double2 v = *reinterpret_cast<const double2*>(p + j);
    out[0] = v.x;
    out[1] = v.y;
  }
  __device__ static void store(double* p, int64_t j, const double* in) {
    *reinterpret_cast<double2*>(p + j) = make_double2(in[0], in[1]);
  }
};

// Sum over a warp / a block (blockDim.x a multiple of 32, at most 1024).
template <class A>
__device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
// NaN wins, as on the CPU (fmax would drop it: norm(x, inf) of a row holding a NaN came out
// finite on the H200).
template <class A>
__device__ __forceinline__ A warp_max(A v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const A other = __shfl_xor_sync(0xffffffffu, v, o);
    v = (other != other || other > v) ? other : v;
  }
  return v;
}
// Every thread gets the block's sum. `scratch` holds 32 values; syncs internally.
template <class A>
__device__ __forceinline__ A block_sum(A v, A* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) >> 5;
  A r = lane < warps ? scratch[lane] : A(0);
  return warp_sum(r);
}
template <class A>
__device__ __forceinline__ A block_max(A v, A* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) >> 5;
  A r = lane < warps ? scratch[lane] : A(-INFINITY);
  return warp_max(r);
}

}  // namespace chorus::cuda
