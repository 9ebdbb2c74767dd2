// MoE token permutation (gather form, as cpu/moe_permute_kernels.cc): expert-order rows from
// token rows, token rows as the weighted sum of their expert rows, and the gradient of that sum
// with respect to the weights. Flat indices are decomposed in 32-bit arithmetic when the
// element count allows it.
#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/moe_permute_launch.h"

namespace chorus::cuda {
namespace {

// w · v rounded on its own, never fused into a following addition: the CPU build (no FMA in
// its target flags) rounds the product and the sum separately, so combine_rows matches it bit
// for bit.
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }

#define CHORUS_MOE_LOOP(I, i, total)                                             \
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < (total); \
       i += static_cast<I>(gridDim.x) * blockDim.x)

template <class T, class I>
__global__ void gather_rows(T* out, const T* x, const int64_t* row_slot, I total, I d, int64_t k,
                            const T* weights) {
  CHORUS_MOE_LOOP(I, i, total) {
    const I r = i / d, c = i % d;
    const int64_t slot = row_slot[r];
    const T v = x[(slot / k) * static_cast<int64_t>(d) + c];
    out[i] = weights == nullptr ? v : weights[slot] * v;
  }
}

template <class T, class I>
__global__ void combine_rows(T* out, const T* rows, const int64_t* slot_row, I total, I d,
                             int64_t k, const T* weights) {
  CHORUS_MOE_LOOP(I, i, total) {
    const I t = i / d, c = i % d;
    const int64_t* sr = slot_row + static_cast<int64_t>(t) * k;
    T acc = T(0);
    bool first = true;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t r = sr[j];
      if (r < 0) continue;
      const T v = rows[r * static_cast<int64_t>(d) + c];
      if (weights == nullptr) {
        // The first term is stored, not added to zero: an unweighted single slot reproduces
        // its row bit for bit (the sign of zeros included), as on the CPU.
        acc = first ? v : acc + v;
      } else {
        const T w = weights[static_cast<int64_t>(t) * k + j];
        acc = first ? mul_rn(w, v) : acc + mul_rn(w, v);
      }
      first = false;
    }
    out[i] = acc;  // zeros when every slot of the token was dropped
  }
}

template <class T>
__global__ void combine_weight_grad(T* grad_w, const T* grad_out, const T* rows,
                                    const int64_t* slot_row, int64_t values, int64_t d, int64_t k) {
  const int lane = threadIdx.x & 31;
  const int64_t warps_per_block = blockDim.x / 32;
  for (int64_t v = blockIdx.x * warps_per_block + threadIdx.x / 32; v < values;
       v += int64_t{gridDim.x} * warps_per_block) {
    const int64_t r = slot_row[v];  // uniform across the warp
    T acc = T(0);
    if (r >= 0) {
      const T* g = grad_out + (v / k) * d;
      const T* src = rows + r * d;
      for (int64_t c = lane; c < d; c += 32) acc += g[c] * src[c];
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
    if (lane == 0) grad_w[v] = acc;
  }
}

#undef CHORUS_MOE_LOOP

}  // namespace

void launch_moe_gather_rows(bool f64, void* out, const void* x, const int64_t* row_slot,
                            int64_t rows, int64_t d, int64_t k, const void* weights,
                            StreamHandle stream) {
  const int64_t total = rows * d;
  if (total == 0) return;
  const unsigned grid = grid_for(total);
  with_value_and_index_types(f64, fits_32(total), [&]<class T, class I>() {
    gather_rows<T, I><<<grid, kBlock, 0, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(x), row_slot, static_cast<I>(total),
        static_cast<I>(d), k, static_cast<const T*>(weights));
  });
}

void launch_moe_combine_rows(bool f64, void* out, const void* rows, const int64_t* slot_row,
                             int64_t n, int64_t d, int64_t k, const void* weights,
                             StreamHandle stream) {
  const int64_t total = n * d;
  if (total == 0) return;
  const unsigned grid = grid_for(total);
  with_value_and_index_types(f64, fits_32(total), [&]<class T, class I>() {
    combine_rows<T, I><<<grid, kBlock, 0, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(rows), slot_row, static_cast<I>(total),
        static_cast<I>(d), k, static_cast<const T*>(weights));
  });
}

void launch_moe_combine_weight_grad(bool f64, void* grad_w, const void* grad_out, const void* rows,
                                    const int64_t* slot_row, int64_t n, int64_t d, int64_t k,
                                    StreamHandle stream) {
  const int64_t values = n * k;
  if (values == 0) return;
  const unsigned grid = grid_for(values * 32);  // one warp per value
  if (f64) {
    combine_weight_grad<double><<<grid, kBlock, 0, stream>>>(
        static_cast<double*>(grad_w), static_cast<const double*>(grad_out),
        static_cast<const double*>(rows), slot_row, values, d, k);
  } else {
    combine_weight_grad<float><<<grid, kBlock, 0, stream>>>(
        static_cast<float*>(grad_w), static_cast<const float*>(grad_out),
        static_cast<const float*>(rows), slot_row, values, d, k);
  }
}

}  // namespace chorus::cuda
