// Row sorts for sort, argsort and topk: a bitonic network over the row held in shared memory,
// padded to a power of two with entries that order after every real one. The comparison is the
// CPU kernels' strict total order (cpu/sort_kernels.cc: NaN is the largest value, the position
// breaks ties), so the result is unique and equals the CPU's element for element.
#include <cstdint>

#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/sort_launch.h"

namespace chorus::cuda {
namespace {

// "Entry a comes before entry b"; positions >= n are padding (after everything, among
// themselves by position).
template <class T>
__device__ __forceinline__ bool before(T av, int64_t ai, T bv, int64_t bi, int64_t n,
                                       bool descending) {
  const bool ap = ai >= n, bp = bi >= n;
  if (ap || bp) return ap && bp ? ai < bi : bp;
  const bool an = av != av, bn = bv != bv;  // NaN (never true for integers)
  if (an || bn) return an && bn ? ai < bi : (descending ? an : bn);
  if (av != bv) return descending ? av > bv : av < bv;
  return ai < bi;
}

// Sorts entries [0, size) of the shared arrays (size a power of two) so that every entry comes
// before those after it by `first(a, b)` ("position a's entry goes before position b's"): the
// bitonic network, one compare-exchange per thread and step, a barrier between steps.
template <class T, class First>
__device__ void bitonic_sort(T* sv, int64_t* si, int64_t size, First first) {
  for (int64_t k = 2; k <= size; k <<= 1) {
    for (int64_t h = k >> 1; h > 0; h >>= 1) {
      for (int64_t t = threadIdx.x; t < size; t += blockDim.x) {
        const int64_t u = t ^ h;
        if (u <= t) continue;
        const bool up = (t & k) == 0;  // this pair's subsequence ascends
        if (up ? first(u, t) : first(t, u)) {
          const T v = sv[t];
          sv[t] = sv[u];
          sv[u] = v;
          const int64_t i = si[t];
          si[t] = si[u];
          si[u] = i;
        }
      }
      __syncthreads();
    }
  }
}

template <class T>
__global__ void sort_rows_kernel(T* values, int64_t* indices, const T* x, int64_t rows, int64_t n,
                                 int64_t count, int64_t padded, bool descending, bool by_position) {
  extern __shared__ __align__(16) unsigned char smem[];
  int64_t* si = reinterpret_cast<int64_t*>(smem);
  T* sv = reinterpret_cast<T*>(si + padded);
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    for (int64_t j = threadIdx.x; j < padded; j += blockDim.x) {
      sv[j] = j < n ? x[r * n + j] : T(0);
      si[j] = j;
    }
    __syncthreads();
    bitonic_sort(sv, si, padded, [&](int64_t a, int64_t b) {
      return before(sv[a], si[a], sv[b], si[b], n, descending);
    });
    if (by_position) {  // keep the first `count`, then order them by position
      int64_t kept = 1;
      while (kept < count) kept <<= 1;
      for (int64_t t = threadIdx.x; t < kept; t += blockDim.x) {
        if (t >= count) si[t] = INT64_MAX;
      }
      __syncthreads();
      bitonic_sort(sv, si, kept, [&](int64_t a, int64_t b) { return si[a] < si[b]; });
    }
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
      values[r * count + j] = sv[j];
      indices[r * count + j] = si[j];
    }
    __syncthreads();  // the next row overwrites the shared arrays
  }
}

template <class T>
void sort_rows_typed(void* values, int64_t* indices, const void* x, int64_t rows, int64_t n,
                     int64_t count, bool descending, bool by_position, StreamHandle stream) {
  int64_t padded = 1;
  while (padded < n) padded <<= 1;
  const int threads = static_cast<int>(padded < 32 ? 32 : (padded > 512 ? 512 : padded));
  const size_t smem = static_cast<size_t>(padded) * (sizeof(int64_t) + sizeof(T));
  const unsigned blocks = static_cast<unsigned>(rows < 65535 * 16 ? rows : 65535 * 16);
  sort_rows_kernel<T><<<blocks, threads, smem, stream>>>(static_cast<T*>(values), indices,
                                                         static_cast<const T*>(x), rows, n, count,
                                                         padded, descending, by_position);
}

}  // namespace

void launch_sort_rows(DType dtype, void* values, int64_t* indices, const void* x, int64_t rows,
                      int64_t n, int64_t count, bool descending, bool by_position,
                      StreamHandle stream) {
  if (rows == 0 || count == 0) return;
  switch (dtype) {
    case DType::kF32:
      return sort_rows_typed<float>(values, indices, x, rows, n, count, descending, by_position,
                                    stream);
    case DType::kF64:
      return sort_rows_typed<double>(values, indices, x, rows, n, count, descending, by_position,
                                     stream);
    case DType::kI8:
      return sort_rows_typed<int8_t>(values, indices, x, rows, n, count, descending, by_position,
                                     stream);
    case DType::kU8:
    case DType::kBool:
      return sort_rows_typed<uint8_t>(values, indices, x, rows, n, count, descending, by_position,
                                      stream);
    case DType::kI32:
      return sort_rows_typed<int32_t>(values, indices, x, rows, n, count, descending, by_position,
                                      stream);
    default:
      return sort_rows_typed<int64_t>(values, indices, x, rows, n, count, descending, by_position,
                                      stream);
  }
}

}  // namespace chorus::cuda
