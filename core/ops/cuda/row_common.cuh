// Helpers shared by the row kernels (softmax_kernels.cu, norm_kernels.cu): one block per
// row, the row cached in shared memory when it fits, 16-byte loads when the row allows.
#pragma once

#include <algorithm>
#include <initializer_list>

#include "core/ops/cuda/common.cuh"

namespace chorus::cuda::row_detail {

// Shared memory a block may use for its row cache (opt-in above 48 KiB on Hopper).
constexpr int64_t kMaxCacheBytes = 96 * 1024;

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

inline int row_threads(int64_t n) {
  return n >= 4096 ? 512 : n >= 1024 ? 256 : n >= 256 ? 128 : 32;
}
inline unsigned row_blocks(int64_t rows) {
  return static_cast<unsigned>(std::clamp<int64_t>(rows, 1, 65535 * 16));
}

template <class K>
void allow_smem(K kernel, size_t bytes) {
  if (bytes > 40 * 1024) {  // static shared memory counts towards the 48 KiB default too
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                         static_cast<int>(bytes));
  }
}

// A row of n values, cached in shared memory when `cache` is set.
template <class T>
struct RowView {
  const T* src;
  Acc<T>* cache;  // null: read src each time
  __device__ Acc<T> operator[](int64_t j) const {
    return cache ? cache[j] : RowIo<T>::load(src, j);
  }
};

// Visits the row's elements: `vec` in 16-byte groups (j a multiple of the width), else one at
// a time. f(j, v, count) gets `count` consecutive values starting at column j.
template <class T, class F>
__device__ __forceinline__ void for_each_chunk(const T* row, int64_t n, bool vec, F f) {
  using V = Vec16<T>;
  if (vec) {
    for (int64_t j = threadIdx.x * int64_t{V::kWidth}; j < n; j += blockDim.x * V::kWidth) {
      Acc<T> v[V::kWidth];
      V::load(row, j, v);
      f(j, v, V::kWidth);
    }
  } else {
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      Acc<T> v[V::kWidth];
      v[0] = RowIo<T>::load(row, j);
      f(j, v, 1);
    }
  }
}

// Writes the row: g(j) gives the value of column j.
template <class T, class G>
__device__ __forceinline__ void store_row(T* row, int64_t n, bool vec, G g) {
  using V = Vec16<T>;
  if (vec) {
    for (int64_t j = threadIdx.x * int64_t{V::kWidth}; j < n; j += blockDim.x * V::kWidth) {
      Acc<T> v[V::kWidth];
#pragma unroll
      for (int k = 0; k < V::kWidth; ++k) v[k] = g(j + k);
      V::store(row, j, v);
    }
  } else {
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) RowIo<T>::store(row, j, g(j));
  }
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

template <class T>
bool vectorizable(int64_t n, std::initializer_list<const void*> ptrs) {
  if (n % Vec16<T>::kWidth != 0) return false;
  for (const void* p : ptrs) {
    if (p != nullptr && !aligned16(p)) return false;
  }
  return true;
}

inline int sm_count() {
  static int g_sm_count = 0;
  if (g_sm_count == 0) {
    int device = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&g_sm_count, cudaDevAttrMultiProcessorCount, device);
    if (g_sm_count <= 0) g_sm_count = 132;
  }
  return g_sm_count;
}

}  // namespace chorus::cuda::row_detail
