#include "core/ops/cpu/embedding_kernels.h"

#include <algorithm>
#include <cstring>

#include "core/ops/cpu/simd.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

using simd::for_each_vec;
using simd::load_n;
using simd::store_n;

// Columns [c0, c1) of every looked-up row.
template <class T>
CHORUS_SIMD_INLINE void accumulate_columns(T* gw, const T* g, const int64_t* idx, int64_t n,
                                           int64_t d, int64_t padding_idx, int64_t c0, int64_t c1) {
  for (int64_t i = 0; i < n; ++i) {
    if (idx[i] == padding_idx) continue;
    T* dst = gw + idx[i] * d + c0;
    const T* src = g + i * d + c0;
    for_each_vec<T>(c1 - c0, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
      store_n<kFull>(dst + j, load_n<kFull>(dst + j, w) + load_n<kFull>(src + j, w), w);
    });
  }
}

CHORUS_SIMD_CLONES void accumulate(float* gw, const float* g, const int64_t* idx, int64_t n,
                                   int64_t d, int64_t padding_idx, int64_t c0, int64_t c1) {
  accumulate_columns(gw, g, idx, n, d, padding_idx, c0, c1);
}
CHORUS_SIMD_CLONES void accumulate(double* gw, const double* g, const int64_t* idx, int64_t n,
                                   int64_t d, int64_t padding_idx, int64_t c0, int64_t c1) {
  accumulate_columns(gw, g, idx, n, d, padding_idx, c0, c1);
}

}  // namespace

void embedding_forward(const Tensor& out, const Tensor& weight, const Tensor& indices) {
  const int64_t n = indices.numel(), d = weight.shape()[1];
  const size_t row_bytes = static_cast<size_t>(d) * weight.itemsize();
  const auto* w = static_cast<const char*>(weight.raw_data());
  auto* o = static_cast<char*>(out.raw_data());
  const int64_t* idx = indices.data<int64_t>();
  parallel_for(0, n, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(d, 1)),
               [&](int64_t i0, int64_t i1) {
                 for (int64_t i = i0; i < i1; ++i) {
                   std::memcpy(o + i * row_bytes, w + idx[i] * row_bytes, row_bytes);
                 }
               });
}

void embedding_backward(const Tensor& gweight, const Tensor& g, const Tensor& indices,
                        int64_t padding_idx) {
  const int64_t n = indices.numel(), d = gweight.shape()[1];
  const int64_t* idx = indices.data<int64_t>();
  CHORUS_DISPATCH_FLOAT(gweight.dtype(), T, [&] {
    T* gw = gweight.data<T>();
    parallel_for(0, gweight.numel(), kElementwiseGrain,
                 [&](int64_t i0, int64_t i1) { std::fill(gw + i0, gw + i1, T(0)); });
    const T* pg = g.data<T>();
    // Column slices of at least 64 elements, so each add stays a run of full vectors.
    const int64_t slices =
        std::clamp<int64_t>(d / 64, 1, n * d >= kElementwiseGrain ? num_threads() : 1);
    parallel_for(0, slices, 1, [&](int64_t s0, int64_t s1) {
      for (int64_t s = s0; s < s1; ++s) {
        accumulate(gw, pg, idx, n, d, padding_idx, d * s / slices, d * (s + 1) / slices);
      }
    });
  });
}

}  // namespace chorus::cpu
