// Strided copies with dtype conversion, and fills, on one device.
#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/copy_kernels.h"

namespace chorus::cuda {
namespace {

template <class T>
__global__ void copy_same(const __grid_constant__ Geometry geo, const __grid_constant__ Operand dst,
                          const __grid_constant__ Operand src) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    static_cast<T*>(dst.data)[operand_offset(geo, dst, i)] =
        static_cast<const T*>(src.data)[operand_offset(geo, src, i)];
  }
}

__global__ void copy_convert(const __grid_constant__ Geometry geo,
                             const __grid_constant__ Operand dst, DType dd,
                             const __grid_constant__ Operand src, DType sd) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    store_any(dst.data, operand_offset(geo, dst, i), dd,
              load_any(src.data, operand_offset(geo, src, i), sd));
  }
}

// Integer to integer (and bool) conversions go through int64, not double, so that values
// beyond 2^53 are kept.
__device__ int64_t load_int(const void* p, int64_t i, DType d) {
  switch (d) {
    case DType::kI8:
      return static_cast<const int8_t*>(p)[i];
    case DType::kU8:
      return static_cast<const uint8_t*>(p)[i];
    case DType::kI32:
      return static_cast<const int32_t*>(p)[i];
    case DType::kBool:
      return static_cast<const uint8_t*>(p)[i] != 0;
    default:
      return static_cast<const int64_t*>(p)[i];
  }
}
__global__ void copy_int(const __grid_constant__ Geometry geo, const __grid_constant__ Operand dst,
                         DType dd, const __grid_constant__ Operand src, DType sd) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t v = load_int(src.data, operand_offset(geo, src, i), sd);
    const int64_t o = operand_offset(geo, dst, i);
    switch (dd) {
      case DType::kI8:
        static_cast<int8_t*>(dst.data)[o] = static_cast<int8_t>(v);
        break;
      case DType::kU8:
        static_cast<uint8_t*>(dst.data)[o] = static_cast<uint8_t>(v);
        break;
      case DType::kBool:
        static_cast<uint8_t*>(dst.data)[o] = v != 0;
        break;
      case DType::kI32:
        static_cast<int32_t*>(dst.data)[o] = static_cast<int32_t>(v);
        break;
      default:
        static_cast<int64_t*>(dst.data)[o] = v;
    }
  }
}

// The hot casts of mixed precision, contiguous: 4 elements per thread.
__global__ void f32_to_bf16(const float4* __restrict__ src, uint2* __restrict__ dst, int64_t n4) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n4;
       i += int64_t{gridDim.x} * blockDim.x) {
    const float4 v = src[i];
    uint2 o;
    o.x = float_to_bf16_bits(v.x) | (uint32_t{float_to_bf16_bits(v.y)} << 16);
    o.y = float_to_bf16_bits(v.z) | (uint32_t{float_to_bf16_bits(v.w)} << 16);
    dst[i] = o;
  }
}
__global__ void bf16_to_f32(const uint2* __restrict__ src, float4* __restrict__ dst, int64_t n4) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n4;
       i += int64_t{gridDim.x} * blockDim.x) {
    const uint2 v = src[i];
    dst[i] = make_float4(__uint_as_float(v.x << 16), __uint_as_float(v.x & 0xffff0000u),
                         __uint_as_float(v.y << 16), __uint_as_float(v.y & 0xffff0000u));
  }
}

template <class T>
__global__ void fill_kernel(const __grid_constant__ Geometry geo,
                            const __grid_constant__ Operand dst, T value) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    static_cast<T*>(dst.data)[operand_offset(geo, dst, i)] = value;
  }
}

bool is_int_like(DType d) {
  return d == DType::kI8 || d == DType::kU8 || d == DType::kI32 || d == DType::kI64 ||
         d == DType::kBool;
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

void launch_copy(const Geometry& geo, const Operand& dst, DType dd, const Operand& src, DType sd,
                 StreamHandle stream) {
  if (geo.numel == 0) return;
  const unsigned grid = grid_for(geo.numel);
  if (dd == sd) {
    switch (dtype_size(dd)) {
      case 1:
        return copy_same<uint8_t><<<grid, kBlock, 0, stream>>>(geo, dst, src);
      case 2:
        return copy_same<uint16_t><<<grid, kBlock, 0, stream>>>(geo, dst, src);
      case 4:
        return copy_same<uint32_t><<<grid, kBlock, 0, stream>>>(geo, dst, src);
      default:
        return copy_same<uint64_t><<<grid, kBlock, 0, stream>>>(geo, dst, src);
    }
  }
  const bool contiguous = dst.contiguous && src.contiguous && geo.numel % 4 == 0 &&
                          aligned16(dst.data) && aligned16(src.data);
  if (contiguous && sd == DType::kF32 && dd == DType::kBF16) {
    return f32_to_bf16<<<grid_for(geo.numel / 4), kBlock, 0, stream>>>(
        static_cast<const float4*>(src.data), static_cast<uint2*>(dst.data), geo.numel / 4);
  }
  if (contiguous && sd == DType::kBF16 && dd == DType::kF32) {
    return bf16_to_f32<<<grid_for(geo.numel / 4), kBlock, 0, stream>>>(
        static_cast<const uint2*>(src.data), static_cast<float4*>(dst.data), geo.numel / 4);
  }
  if (is_int_like(sd) && is_int_like(dd)) {
    return copy_int<<<grid, kBlock, 0, stream>>>(geo, dst, dd, src, sd);
  }
  copy_convert<<<grid, kBlock, 0, stream>>>(geo, dst, dd, src, sd);
}

void launch_fill(const Geometry& geo, const Operand& dst, size_t itemsize, uint64_t bits,
                 StreamHandle stream) {
  if (geo.numel == 0) return;
  const unsigned grid = grid_for(geo.numel);
  switch (itemsize) {
    case 1:
      return fill_kernel<uint8_t><<<grid, kBlock, 0, stream>>>(geo, dst, uint8_t(bits));
    case 2:
      return fill_kernel<uint16_t><<<grid, kBlock, 0, stream>>>(geo, dst, uint16_t(bits));
    case 4:
      return fill_kernel<uint32_t><<<grid, kBlock, 0, stream>>>(geo, dst, uint32_t(bits));
    default:
      return fill_kernel<uint64_t><<<grid, kBlock, 0, stream>>>(geo, dst, bits);
  }
}

}  // namespace chorus::cuda
