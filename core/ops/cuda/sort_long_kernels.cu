// Rows longer than kMaxSortRow (sort_kernels.cu holds a row in shared memory up to that): a
// segmented radix sort over keys that order like the CPU kernels' strict order.
//
// The CPU order (cpu/sort_kernels.cc) is: by value, NaN the largest, equal values (including
// -0 and +0) by position. Each value maps to an unsigned key with the same order (floats: sign
// flip trick, -0 folded into +0, every NaN the largest key), and CUB's radix sort is stable in
// both directions, so equal keys keep their positions' order: the result is the CPU's, element
// for element. Values are then gathered from x by the sorted positions, so -0 and NaN payloads
// come back bit for bit.
#include <algorithm>
#include <cstdint>
#include <cub/device/device_segmented_radix_sort.cuh>

#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/sort_launch.h"
#include "core/tensor/error.h"

namespace chorus::cuda {
namespace {

__device__ __forceinline__ uint32_t order_key(float v) {
  if (v != v) return 0xFFFFFFFFu;
  if (v == 0.f) v = 0.f;  // -0 sorts with +0 (they compare equal)
  const uint32_t b = __float_as_uint(v);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
__device__ __forceinline__ uint64_t order_key(double v) {
  if (v != v) return ~uint64_t{0};
  if (v == 0.0) v = 0.0;
  const uint64_t b = static_cast<uint64_t>(__double_as_longlong(v));
  return (b >> 63) ? ~b : (b | (uint64_t{1} << 63));
}
__device__ __forceinline__ uint8_t order_key(int8_t v) {
  return static_cast<uint8_t>(static_cast<uint8_t>(v) ^ 0x80u);
}
__device__ __forceinline__ uint8_t order_key(uint8_t v) { return v; }
__device__ __forceinline__ uint32_t order_key(int32_t v) {
  return static_cast<uint32_t>(v) ^ 0x80000000u;
}
__device__ __forceinline__ uint64_t order_key(int64_t v) {
  return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
}

template <class T>
using KeyOf = decltype(order_key(T{}));

template <class T>
__global__ void make_keys(const T* x, int64_t total, int64_t n, KeyOf<T>* keys, int32_t* pos) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    keys[i] = order_key(x[i]);
    pos[i] = static_cast<int32_t>(i % n);
  }
}

__global__ void row_offsets(int64_t* offsets, int64_t rows, int64_t n) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r <= rows;
       r += int64_t{gridDim.x} * blockDim.x) {
    offsets[r] = r * n;
  }
}

// The first `count` sorted positions of each row, as keys of a second sort (topk unsorted).
__global__ void first_positions(const int32_t* pos, int64_t rows, int64_t n, int64_t count,
                                uint32_t* kept) {
  const int64_t total = rows * count;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / count, j = i - r * count;
    kept[i] = static_cast<uint32_t>(pos[r * n + j]);
  }
}

// values/indices [rows, count] from the positions: `stride` entries per row of `pos`.
template <class T, class P>
__global__ void gather_sorted(const T* x, const P* pos, int64_t rows, int64_t n, int64_t count,
                              int64_t stride, T* values, int64_t* indices) {
  const int64_t total = rows * count;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / count, j = i - r * count;
    const int64_t p = static_cast<int64_t>(pos[r * stride + j]);
    values[i] = x[r * n + p];
    indices[i] = p;
  }
}

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::min<int64_t>((n + 255) / 256, 65535 * 8));
}

size_t align256(size_t b) { return (b + 255) & ~size_t{255}; }

void check_cub(cudaError_t st, const char* step) {
  CHORUS_CHECK(st == cudaSuccess, "sort of long rows: ", step, " failed: ", cudaGetErrorString(st));
}

// The workspace: keys in/out, positions in/out, offsets, the kept positions of a second sort,
// and CUB's temporary storage (sized by CUB's own query).
template <class T>
struct Layout {
  size_t keys_in, keys_out, pos_in, pos_out, offsets, kept_in, kept_out, offsets2, temp, temp_bytes,
      total;
  Layout(int64_t rows, int64_t n, int64_t count, bool by_position) {
    using K = KeyOf<T>;
    const size_t items = static_cast<size_t>(rows * n), kept = static_cast<size_t>(rows * count);
    size_t at = 0;
    auto take = [&](size_t bytes) {
      const size_t here = at;
      at += align256(bytes);
      return here;
    };
    keys_in = take(items * sizeof(K));
    keys_out = take(items * sizeof(K));
    pos_in = take(items * sizeof(int32_t));
    pos_out = take(items * sizeof(int32_t));
    offsets = take((rows + 1) * sizeof(int64_t));
    kept_in = take(by_position ? kept * sizeof(uint32_t) : 0);
    kept_out = take(by_position ? kept * sizeof(uint32_t) : 0);
    offsets2 = take(by_position ? (rows + 1) * sizeof(int64_t) : 0);
    size_t first = 0, second = 0;
    cub::DeviceSegmentedRadixSort::SortPairs(
        nullptr, first, static_cast<const K*>(nullptr), static_cast<K*>(nullptr),
        static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
        static_cast<int>(items), static_cast<int>(rows), static_cast<const int64_t*>(nullptr),
        static_cast<const int64_t*>(nullptr));
    if (by_position) {
      cub::DeviceSegmentedRadixSort::SortKeys(
          nullptr, second, static_cast<const uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr),
          static_cast<int>(kept), static_cast<int>(rows), static_cast<const int64_t*>(nullptr),
          static_cast<const int64_t*>(nullptr));
    }
    temp_bytes = std::max(first, second);
    temp = take(temp_bytes);
    total = at;
  }
};

template <class T>
void sort_long_typed(void* values, int64_t* indices, const void* xv, int64_t rows, int64_t n,
                     int64_t count, bool descending, bool by_position, void* workspace,
                     StreamHandle stream) {
  using K = KeyOf<T>;
  const Layout<T> L(rows, n, count, by_position);
  char* w = static_cast<char*>(workspace);
  K* keys_in = reinterpret_cast<K*>(w + L.keys_in);
  K* keys_out = reinterpret_cast<K*>(w + L.keys_out);
  int32_t* pos_in = reinterpret_cast<int32_t*>(w + L.pos_in);
  int32_t* pos_out = reinterpret_cast<int32_t*>(w + L.pos_out);
  int64_t* offsets = reinterpret_cast<int64_t*>(w + L.offsets);
  void* temp = w + L.temp;
  size_t temp_bytes = L.temp_bytes;
  const T* x = static_cast<const T*>(xv);
  const int64_t items = rows * n;
  make_keys<T><<<blocks_for(items), 256, 0, stream>>>(x, items, n, keys_in, pos_in);
  row_offsets<<<blocks_for(rows + 1), 256, 0, stream>>>(offsets, rows, n);
  if (descending) {
    check_cub(cub::DeviceSegmentedRadixSort::SortPairsDescending(
                  temp, temp_bytes, keys_in, keys_out, pos_in, pos_out, static_cast<int>(items),
                  static_cast<int>(rows), offsets, offsets + 1, 0, static_cast<int>(sizeof(K) * 8),
                  stream),
              "the descending radix sort");
  } else {
    check_cub(cub::DeviceSegmentedRadixSort::SortPairs(temp, temp_bytes, keys_in, keys_out, pos_in,
                                                       pos_out, static_cast<int>(items),
                                                       static_cast<int>(rows), offsets, offsets + 1,
                                                       0, static_cast<int>(sizeof(K) * 8), stream),
              "the radix sort");
  }
  if (!by_position) {
    gather_sorted<T, int32_t><<<blocks_for(rows * count), 256, 0, stream>>>(
        x, pos_out, rows, n, count, n, static_cast<T*>(values), indices);
    return;
  }
  uint32_t* kept_in = reinterpret_cast<uint32_t*>(w + L.kept_in);
  uint32_t* kept_out = reinterpret_cast<uint32_t*>(w + L.kept_out);
  int64_t* offsets2 = reinterpret_cast<int64_t*>(w + L.offsets2);
  first_positions<<<blocks_for(rows * count), 256, 0, stream>>>(pos_out, rows, n, count, kept_in);
  row_offsets<<<blocks_for(rows + 1), 256, 0, stream>>>(offsets2, rows, count);
  temp_bytes = L.temp_bytes;
  check_cub(cub::DeviceSegmentedRadixSort::SortKeys(
                temp, temp_bytes, kept_in, kept_out, static_cast<int>(rows * count),
                static_cast<int>(rows), offsets2, offsets2 + 1, 0, 32, stream),
            "the sort of the kept positions");
  gather_sorted<T, uint32_t><<<blocks_for(rows * count), 256, 0, stream>>>(
      x, kept_out, rows, n, count, count, static_cast<T*>(values), indices);
}

template <class F>
auto with_sort_type(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF32:
      return f(float{});
    case DType::kF64:
      return f(double{});
    case DType::kI8:
      return f(int8_t{});
    case DType::kU8:
    case DType::kBool:
      return f(uint8_t{});
    case DType::kI32:
      return f(int32_t{});
    default:
      return f(int64_t{});
  }
}

}  // namespace

size_t sort_long_rows_workspace(DType dtype, int64_t rows, int64_t n, int64_t count,
                                bool by_position) {
  return with_sort_type(
      dtype, [&](auto t) { return Layout<decltype(t)>(rows, n, count, by_position).total; });
}

void launch_sort_long_rows(DType dtype, void* values, int64_t* indices, const void* x, int64_t rows,
                           int64_t n, int64_t count, bool descending, bool by_position,
                           void* workspace, StreamHandle stream) {
  if (rows == 0 || count == 0) return;
  with_sort_type(dtype, [&](auto t) {
    sort_long_typed<decltype(t)>(values, indices, x, rows, n, count, descending, by_position,
                                 workspace, stream);
  });
}

}  // namespace chorus::cuda
