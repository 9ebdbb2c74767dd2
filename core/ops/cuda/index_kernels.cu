// Dropout (Philox, bit-identical masks to the CPU), embedding, gather/scatter and
// index_select/index_add. Additions into shared rows use atomics, so their floating-point
// sums may round differently from the CPU's sequential order (within the parity thresholds).
#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/index_launch.h"

namespace chorus::cuda {
namespace {

// Philox4x32-10, as core/tensor/philox.h (which is host-only constexpr).
__device__ __forceinline__ uint4 philox(uint64_t block, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32), c2 = 0,
           c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
#pragma unroll
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{0xD2511F53u} * c0;
    const uint64_t p1 = uint64_t{0xCD9E8D57u} * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n1 = static_cast<uint32_t>(p1);
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return make_uint4(c0, c1, c2, c3);
}

template <class T>
__global__ void dropout_forward(T* out, uint8_t* mask, const T* x, int64_t n, uint32_t threshold,
                                T scale, uint64_t seed, uint64_t offset) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; b < blocks;
       b += int64_t{gridDim.x} * blockDim.x) {
    const uint4 w = philox(offset + static_cast<uint64_t>(b), seed);
    const uint32_t words[4] = {w.x, w.y, w.z, w.w};
    const int64_t i0 = 4 * b;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      if (i0 + k >= n) break;
      const bool keep = (words[k] >> 8) >= threshold;
      mask[i0 + k] = keep;
      out[i0 + k] = keep ? x[i0 + k] * scale : T(0);
    }
  }
}

template <class T>
__global__ void dropout_backward(T* gx, const T* g, const uint8_t* mask, int64_t n, T scale) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    gx[i] = mask[i] ? g[i] * scale : T(0);
  }
}

template <class W>
__global__ void embedding_forward(W* out, const W* weight, const int64_t* idx, int64_t n,
                                  int64_t words) {
  const int64_t total = n * words;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / words, j = i % words;
    out[i] = weight[idx[r] * words + j];
  }
}

template <class T>
__global__ void embedding_backward(T* gw, const T* g, const int64_t* idx, int64_t n, int64_t d,
                                   int64_t pad) {
  const int64_t total = n * d;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / d, j = i % d;
    const int64_t v = idx[r];
    if (v != pad) atomicAdd(gw + v * d + j, g[i]);
  }
}

template <class W>
__global__ void gather_kernel(const __grid_constant__ Geometry geo,
                              const __grid_constant__ Operand out,
                              const __grid_constant__ Operand index,
                              const __grid_constant__ Operand x, int64_t dim_stride) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t k = static_cast<const int64_t*>(index.data)[operand_offset(geo, index, i)];
    static_cast<W*>(out.data)[operand_offset(geo, out, i)] =
        static_cast<const W*>(x.data)[operand_offset(geo, x, i) + k * dim_stride];
  }
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int32_t* p, int32_t v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

template <class T>
__global__ void scatter_add_kernel(const __grid_constant__ Geometry geo,
                                   const __grid_constant__ Operand out,
                                   const __grid_constant__ Operand index,
                                   const __grid_constant__ Operand src, int64_t dim_stride) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t k = static_cast<const int64_t*>(index.data)[operand_offset(geo, index, i)];
    atomic_add(static_cast<T*>(out.data) + operand_offset(geo, out, i) + k * dim_stride,
               static_cast<const T*>(src.data)[operand_offset(geo, src, i)]);
  }
}

template <class W>
__global__ void index_select_kernel(W* out, const W* x, const int64_t* idx, int64_t outer,
                                    int64_t n, int64_t k, int64_t inner) {
  const int64_t total = outer * k * inner;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = i % inner, j = (i / inner) % k, o = i / (inner * k);
    out[i] = x[(o * n + idx[j]) * inner + c];
  }
}

template <class T>
__global__ void index_add_kernel(T* out, const T* src, const int64_t* idx, int64_t outer, int64_t n,
                                 int64_t k, int64_t inner) {
  const int64_t total = outer * k * inner;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = i % inner, j = (i / inner) % k, o = i / (inner * k);
    atomic_add(out + (o * n + idx[j]) * inner + c, src[i]);
  }
}

}  // namespace

void launch_dropout_forward(bool f64, void* out, uint8_t* mask, const void* x, int64_t n,
                            uint32_t threshold, double scale, uint64_t seed, uint64_t offset,
                            StreamHandle stream) {
  if (n == 0) return;
  const unsigned grid = grid_for((n + 3) / 4);
  if (f64) {
    dropout_forward<<<grid, kBlock, 0, stream>>>(static_cast<double*>(out), mask,
                                                 static_cast<const double*>(x), n, threshold, scale,
                                                 seed, offset);
  } else {
    dropout_forward<<<grid, kBlock, 0, stream>>>(static_cast<float*>(out), mask,
                                                 static_cast<const float*>(x), n, threshold,
                                                 static_cast<float>(scale), seed, offset);
  }
}

void launch_dropout_backward(bool f64, void* gx, const void* g, const uint8_t* mask, int64_t n,
                             double scale, StreamHandle stream) {
  if (n == 0) return;
  if (f64) {
    dropout_backward<<<grid_for(n), kBlock, 0, stream>>>(
        static_cast<double*>(gx), static_cast<const double*>(g), mask, n, scale);
  } else {
    dropout_backward<<<grid_for(n), kBlock, 0, stream>>>(
        static_cast<float*>(gx), static_cast<const float*>(g), mask, n, static_cast<float>(scale));
  }
}

void launch_embedding_forward(void* out, const void* weight, const int64_t* idx, int64_t n,
                              int64_t row_bytes, StreamHandle stream) {
  if (n == 0 || row_bytes == 0) return;
  if (row_bytes % 16 == 0 && (reinterpret_cast<uintptr_t>(out) & 15) == 0 &&
      (reinterpret_cast<uintptr_t>(weight) & 15) == 0) {
    const int64_t words = row_bytes / 16;
    embedding_forward<<<grid_for(n * words), kBlock, 0, stream>>>(
        static_cast<uint4*>(out), static_cast<const uint4*>(weight), idx, n, words);
  } else if (row_bytes % 4 == 0) {
    const int64_t words = row_bytes / 4;
    embedding_forward<<<grid_for(n * words), kBlock, 0, stream>>>(
        static_cast<uint32_t*>(out), static_cast<const uint32_t*>(weight), idx, n, words);
  } else {
    embedding_forward<<<grid_for(n * row_bytes), kBlock, 0, stream>>>(
        static_cast<uint8_t*>(out), static_cast<const uint8_t*>(weight), idx, n, row_bytes);
  }
}

void launch_embedding_backward(bool f64, void* gweight, const void* g, const int64_t* idx,
                               int64_t n, int64_t d, int64_t padding_idx, StreamHandle stream) {
  if (n * d == 0) return;
  if (f64) {
    embedding_backward<<<grid_for(n * d), kBlock, 0, stream>>>(
        static_cast<double*>(gweight), static_cast<const double*>(g), idx, n, d, padding_idx);
  } else {
    embedding_backward<<<grid_for(n * d), kBlock, 0, stream>>>(
        static_cast<float*>(gweight), static_cast<const float*>(g), idx, n, d, padding_idx);
  }
}

void launch_gather(size_t itemsize, const Geometry& geo, const Operand& out, const Operand& index,
                   const Operand& x, int64_t dim_stride, StreamHandle stream) {
  if (geo.numel == 0) return;
  const unsigned grid = grid_for(geo.numel);
  switch (itemsize) {
    case 1:
      return gather_kernel<uint8_t><<<grid, kBlock, 0, stream>>>(geo, out, index, x, dim_stride);
    case 2:
      return gather_kernel<uint16_t><<<grid, kBlock, 0, stream>>>(geo, out, index, x, dim_stride);
    case 4:
      return gather_kernel<uint32_t><<<grid, kBlock, 0, stream>>>(geo, out, index, x, dim_stride);
    default:
      return gather_kernel<uint64_t><<<grid, kBlock, 0, stream>>>(geo, out, index, x, dim_stride);
  }
}

bool atomic_add_supported(DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF64 || dtype == DType::kI32 ||
         dtype == DType::kI64;
}

void launch_scatter_add(DType dtype, const Geometry& geo, const Operand& out, const Operand& index,
                        const Operand& src, int64_t dim_stride, StreamHandle stream) {
  if (geo.numel == 0) return;
  const unsigned grid = grid_for(geo.numel);
  switch (dtype) {
    case DType::kF32:
      return scatter_add_kernel<float>
          <<<grid, kBlock, 0, stream>>>(geo, out, index, src, dim_stride);
    case DType::kF64:
      return scatter_add_kernel<double>
          <<<grid, kBlock, 0, stream>>>(geo, out, index, src, dim_stride);
    case DType::kI32:
      return scatter_add_kernel<int32_t>
          <<<grid, kBlock, 0, stream>>>(geo, out, index, src, dim_stride);
    default:
      return scatter_add_kernel<int64_t>
          <<<grid, kBlock, 0, stream>>>(geo, out, index, src, dim_stride);
  }
}

void launch_index_select(size_t itemsize, void* out, const void* x, const int64_t* idx,
                         int64_t outer, int64_t n, int64_t k, int64_t inner, StreamHandle stream) {
  const int64_t total = outer * k * inner;
  if (total == 0) return;
  const unsigned grid = grid_for(total);
#define CHORUS_INDEX_SELECT(W)                         \
  index_select_kernel<W><<<grid, kBlock, 0, stream>>>( \
      static_cast<W*>(out), static_cast<const W*>(x), idx, outer, n, k, inner)
  switch (itemsize) {
    case 1:
      return CHORUS_INDEX_SELECT(uint8_t);
    case 2:
      return CHORUS_INDEX_SELECT(uint16_t);
    case 4:
      return CHORUS_INDEX_SELECT(uint32_t);
    default:
      return CHORUS_INDEX_SELECT(uint64_t);
  }
#undef CHORUS_INDEX_SELECT
}

void launch_index_add(DType dtype, void* out, const void* src, const int64_t* idx, int64_t outer,
                      int64_t n, int64_t k, int64_t inner, StreamHandle stream) {
  const int64_t total = outer * k * inner;
  if (total == 0) return;
  const unsigned grid = grid_for(total);
#define CHORUS_INDEX_ADD(T)                         \
  index_add_kernel<T><<<grid, kBlock, 0, stream>>>( \
      static_cast<T*>(out), static_cast<const T*>(src), idx, outer, n, k, inner)
  switch (dtype) {
    case DType::kF32:
      return CHORUS_INDEX_ADD(float);
    case DType::kF64:
      return CHORUS_INDEX_ADD(double);
    case DType::kI32:
      return CHORUS_INDEX_ADD(int32_t);
    default:
      return CHORUS_INDEX_ADD(int64_t);
  }
#undef CHORUS_INDEX_ADD
}

}  // namespace chorus::cuda
