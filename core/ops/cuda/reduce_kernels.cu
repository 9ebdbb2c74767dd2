// Row reductions (sum, var, logsumexp, norms, max/min with argmax), the gradient-norm
// reduction of grad_clip, and cumsum. One block reduces one row (grid-stride over rows);
// partial results meet through warp shuffles and one shared-memory exchange.
#include <algorithm>

#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/reduce_launch.h"

namespace chorus::cuda {
namespace {

int threads_for(int64_t inner) { return inner >= 2048 ? 512 : inner >= 256 ? 128 : 32; }
unsigned row_grid(int64_t outer) {
  return static_cast<unsigned>(outer < 1 ? 1 : (outer > 65535 * 16 ? 65535 * 16 : outer));
}

template <class T>
__device__ double row_sum(const T* row, int64_t n, double center, bool squared, double* scratch) {
  double s = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const double v = static_cast<double>(row[j]) - center;
    s += squared ? v * v : v;
  }
  return block_sum(s, scratch);
}

__device__ __forceinline__ double nan_max(double a, double b) { return (a != a || a > b) ? a : b; }

template <class T>
__global__ void row_reduce_kernel(int kind, const T* x, T* out, int64_t outer, int64_t inner,
                                  double param) {
  __shared__ double scratch[32];
  for (int64_t r = blockIdx.x; r < outer; r += gridDim.x) {
    const T* row = x + r * inner;
    double result = 0;
    if (kind == kRowSum) {
      result = row_sum(row, inner, 0.0, false, scratch);
    } else if (kind == kRowVar) {
      const T mean = static_cast<T>(row_sum(row, inner, 0.0, false, scratch) / inner);
      result = row_sum(row, inner, static_cast<double>(mean), true, scratch) / param;
    } else if (kind == kRowLogSumExp) {
      double m = -INFINITY;
      for (int64_t j = threadIdx.x; j < inner; j += blockDim.x)
        m = nan_max(static_cast<double>(row[j]), m);
      m = block_max(m, scratch);
      if (isinf(m)) {
        result = m;
      } else {
        double s = 0;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x)
          s += exp(static_cast<double>(row[j]) - m);
        result = m + log(block_sum(s, scratch));
      }
    } else {  // norm
      const double p = param;
      if (isinf(p)) {
        // max |x| (p > 0) or min |x|; NaN propagates.
        double m = p > 0 ? 0.0 : INFINITY;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
          const double a = fabs(static_cast<double>(row[j]));
          m = p > 0 ? nan_max(a, m) : ((a != a || a < m) ? a : m);
        }
        if (p > 0) {
          m = block_max(m, scratch);
        } else {
          m = -block_max(-m, scratch);
        }
        result = m;
      } else {
        double s = 0;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
          const double a = fabs(static_cast<double>(row[j]));
          s += p == 2.0 ? a * a : p == 1.0 ? a : p == 0.0 ? (a != 0.0) : pow(a, p);
        }
        s = block_sum(s, scratch);
        result = p == 2.0 ? sqrt(s) : (p == 1.0 || p == 0.0) ? s : pow(s, 1.0 / p);
      }
    }
    if (threadIdx.x == 0) out[r] = static_cast<T>(result);
    __syncthreads();
  }
}

// Split rows: when there are few long rows (a sum over a whole tensor, a gradient reduced to a
// scalar), one block per row leaves most of the GPU idle (a 2^26-element sum took 48 ms on the
// H200). Each row is then cut into `chunks` pieces; one block per piece writes a partial pair
// (double2), and one thread per row combines its pieces in order, so the result does not depend
// on scheduling. Pairs per kind:
//   sum         (Σx, -)            norm p finite  (Σ|x|^p, -)     norm p = ±inf (max or min |x|, -)
//   logsumexp   (m, Σexp(x - m))   var            (chunk mean, Σ(x - chunk mean)²), merged with
//                                                  Chan et al.'s pairwise update.
template <class T>
__global__ void row_reduce_partial(int kind, const T* x, double2* partial, int64_t inner,
                                   int64_t chunk_len, int chunks, double param) {
  __shared__ double scratch[32];
  const int64_t r = blockIdx.x / chunks;
  const int c = static_cast<int>(blockIdx.x % chunks);
  const int64_t begin = c * chunk_len;
  const int64_t n = begin >= inner ? 0 : (inner - begin < chunk_len ? inner - begin : chunk_len);
  const T* piece = x + r * inner + begin;
  double2 out = make_double2(0.0, 0.0);
  if (kind == kRowSum) {
    out.x = row_sum(piece, n, 0.0, false, scratch);
  } else if (kind == kRowVar) {
    const double mean = n > 0 ? row_sum(piece, n, 0.0, false, scratch) / n : 0.0;
    __syncthreads();
    out = make_double2(mean, row_sum(piece, n, mean, true, scratch));
  } else if (kind == kRowLogSumExp) {
    double m = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
      m = nan_max(static_cast<double>(piece[j]), m);
    m = block_max(m, scratch);
    __syncthreads();
    double e = 0;
    if (!isinf(m)) {
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
        e += exp(static_cast<double>(piece[j]) - m);
    }
    out = make_double2(m, block_sum(e, scratch));
  } else {
    const double p = param;
    if (isinf(p)) {
      double m = p > 0 ? 0.0 : INFINITY;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        const double a = fabs(static_cast<double>(piece[j]));
        m = p > 0 ? nan_max(a, m) : ((a != a || a < m) ? a : m);
      }
      out.x = p > 0 ? block_max(m, scratch) : -block_max(-m, scratch);
    } else {
      double s = 0;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        const double a = fabs(static_cast<double>(piece[j]));
        s += p == 2.0 ? a * a : p == 1.0 ? a : p == 0.0 ? (a != 0.0) : pow(a, p);
      }
      out.x = block_sum(s, scratch);
    }
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = out;
}

template <class T>
__global__ void row_reduce_combine(int kind, const double2* partial, T* out, int64_t outer,
                                   int64_t inner, int64_t chunk_len, int chunks, double param) {
  const int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (r >= outer) return;
  const double2* pr = partial + r * chunks;
  double result = 0;
  if (kind == kRowSum) {
    for (int c = 0; c < chunks; ++c) result += pr[c].x;
  } else if (kind == kRowVar) {
    double count = 0, mean = 0, m2 = 0;
    for (int c = 0; c < chunks; ++c) {
      const int64_t begin = c * chunk_len;
      const double nb = static_cast<double>(inner - begin < chunk_len ? inner - begin : chunk_len);
      if (nb <= 0) continue;
      const double delta = pr[c].x - mean, total = count + nb;
      mean += delta * nb / total;
      m2 += pr[c].y + delta * delta * count * nb / total;
      count = total;
    }
    result = m2 / param;
  } else if (kind == kRowLogSumExp) {
    double m = -INFINITY;
    for (int c = 0; c < chunks; ++c) m = nan_max(pr[c].x, m);
    if (isinf(m) || m != m) {
      result = m;
    } else {
      double s = 0;
      for (int c = 0; c < chunks; ++c) {
        if (!isinf(pr[c].x)) s += pr[c].y * exp(pr[c].x - m);
      }
      result = m + log(s);
    }
  } else {
    const double p = param;
    if (isinf(p)) {
      result = pr[0].x;
      for (int c = 1; c < chunks; ++c) {
        const double a = pr[c].x;
        result = p > 0 ? nan_max(a, result) : ((a != a || a < result) ? a : result);
      }
    } else {
      for (int c = 0; c < chunks; ++c) result += pr[c].x;
      result = p == 2.0 ? sqrt(result) : (p == 1.0 || p == 0.0) ? result : pow(result, 1.0 / p);
    }
  }
  out[r] = static_cast<T>(result);
}

// (value, index) pairs: a beats b when it is more extreme, or NaN while b is not, or equal
// (both NaN) with a lower index.
template <class T>
__device__ __forceinline__ bool beats(bool is_max, T av, int64_t ai, T bv, int64_t bi) {
  const bool an = av != av, bn = bv != bv;
  if (an || bn) return an && (!bn || ai < bi);
  if (av == bv) return ai < bi;
  return is_max ? av > bv : av < bv;
}

template <class T>
__global__ void row_extreme_kernel(bool is_max, const T* x, T* values, int64_t* indices,
                                   int64_t outer, int64_t inner) {
  __shared__ T sv[32];
  __shared__ int64_t si[32];
  for (int64_t r = blockIdx.x; r < outer; r += gridDim.x) {
    const T* row = x + r * inner;
    T bv = row[0];
    int64_t bi = 0;
    for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
      if (beats(is_max, row[j], j, bv, bi)) {
        bv = row[j];
        bi = j;
      }
    }
    for (int o = 16; o > 0; o >>= 1) {
      const T ov = __shfl_xor_sync(0xffffffffu, bv, o);
      const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
      if (beats(is_max, ov, oi, bv, bi)) {
        bv = ov;
        bi = oi;
      }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) {
      sv[warp] = bv;
      si[warp] = bi;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < warps; ++w) {
        if (beats(is_max, sv[w], si[w], bv, bi)) {
          bv = sv[w];
          bi = si[w];
        }
      }
      if (values != nullptr) values[r] = bv;
      if (indices != nullptr) indices[r] = bi;
    }
    __syncthreads();
  }
}

template <class T>
__global__ void scatter_dim_kernel(T* gx, const T* g, const int64_t* idx, int64_t pre, int64_t n,
                                   int64_t post) {
  const int64_t total = pre * post;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t a = i / post, b = i % post;
    gx[(a * n + idx[i]) * post + b] = g[i];
  }
}

template <class T>
__device__ __forceinline__ double load_f(const T* p, int64_t i) {
  return static_cast<double>(p[i]);
}
template <>
__device__ __forceinline__ double load_f<__nv_bfloat16>(const __nv_bfloat16* p, int64_t i) {
  return __bfloat162float(p[i]);
}
template <>
__device__ __forceinline__ double load_f<__half>(const __half* p, int64_t i) {
  return __half2float(p[i]);
}

// Fixed grid, one partial per block into partial[blockIdx.x]; the launcher sums them in a
// second single-block pass, so the result does not depend on timing (deterministic).
template <class T>
__global__ void abs_pow_partial(const T* x, int64_t n, double p, double* partial) {
  __shared__ double scratch[32];
  const bool inf = isinf(p);
  double acc = 0;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const double a = fabs(load_f(x, i));
    if (inf) {
      acc = nan_max(acc, a);
    } else {
      acc += p == 2.0 ? a * a : p == 1.0 ? a : pow(a, p);
    }
  }
  acc = inf ? block_max(acc, scratch) : block_sum(acc, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// *result = the partials' total, or (accumulate) *result combined with it.
__global__ void finish_partials(const double* partial, int count, bool use_max, bool accumulate,
                                double* result) {
  __shared__ double scratch[32];
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) {
    acc = use_max ? nan_max(acc, partial[i]) : acc + partial[i];
  }
  acc = use_max ? block_max(acc, scratch) : block_sum(acc, scratch);
  if (threadIdx.x == 0) {
    *result = !accumulate ? acc : use_max ? nan_max(acc, *result) : *result + acc;
  }
}

template <class T>
__global__ void scale_kernel(T* x, int64_t n, float factor) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    x[i] = static_cast<T>(static_cast<float>(x[i]) * factor);
  }
}
__global__ void scale_f64(double* x, int64_t n, double factor) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    x[i] *= factor;
  }
}

// One thread per (outer, inner) column walks down n; columns of a block are adjacent in
// memory, so each step's loads are coalesced.
template <class T, class A>
__global__ void cumsum_kernel(const T* x, T* out, int64_t outer, int64_t n, int64_t inner,
                              bool reverse) {
  const int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cols;
       c += int64_t{gridDim.x} * blockDim.x) {
    const int64_t o = c / inner, i = c % inner;
    const T* px = x + o * n * inner + i;
    T* po = out + o * n * inner + i;
    A acc = 0;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t j = reverse ? n - 1 - k : k;
      acc += static_cast<A>(px[j * inner]);
      po[j * inner] = static_cast<T>(acc);
    }
  }
}

}  // namespace

void launch_row_reduce(int kind, bool f64, const void* rows, void* out, int64_t outer,
                       int64_t inner, double param, StreamHandle stream) {
  if (outer == 0) return;
  const int threads = threads_for(inner);
  if (f64) {
    row_reduce_kernel<double><<<row_grid(outer), threads, 0, stream>>>(
        kind, static_cast<const double*>(rows), static_cast<double*>(out), outer, inner, param);
  } else {
    row_reduce_kernel<float><<<row_grid(outer), threads, 0, stream>>>(
        kind, static_cast<const float*>(rows), static_cast<float*>(out), outer, inner, param);
  }
}

int row_reduce_chunks(int64_t outer, int64_t inner) {
  // Enough blocks to fill the GPU (about 8 per SM of an H200), pieces of at least 16K elements.
  constexpr int64_t kTargetBlocks = 1024, kMinPiece = 16384;
  if (outer <= 0 || outer >= kTargetBlocks / 2 || inner < 2 * kMinPiece) return 1;
  const int64_t by_blocks = (kTargetBlocks + outer - 1) / outer;
  const int64_t by_size = inner / kMinPiece;
  return static_cast<int>(std::max<int64_t>(1, std::min(by_blocks, by_size)));
}

void launch_row_reduce_split(int kind, bool f64, const void* rows, void* out, int64_t outer,
                             int64_t inner, double param, int chunks, void* partial,
                             StreamHandle stream) {
  if (outer == 0) return;
  const int64_t chunk_len = (inner + chunks - 1) / chunks;
  const unsigned blocks = static_cast<unsigned>(outer * chunks);
  const unsigned combine_blocks = static_cast<unsigned>((outer + 127) / 128);
  auto* pairs = static_cast<double2*>(partial);
  if (f64) {
    row_reduce_partial<double><<<blocks, 512, 0, stream>>>(kind, static_cast<const double*>(rows),
                                                           pairs, inner, chunk_len, chunks, param);
    row_reduce_combine<double><<<combine_blocks, 128, 0, stream>>>(
        kind, pairs, static_cast<double*>(out), outer, inner, chunk_len, chunks, param);
  } else {
    row_reduce_partial<float><<<blocks, 512, 0, stream>>>(kind, static_cast<const float*>(rows),
                                                          pairs, inner, chunk_len, chunks, param);
    row_reduce_combine<float><<<combine_blocks, 128, 0, stream>>>(
        kind, pairs, static_cast<float*>(out), outer, inner, chunk_len, chunks, param);
  }
}

void launch_row_extreme(bool is_max, bool f64, const void* rows, void* values, int64_t* indices,
                        int64_t outer, int64_t inner, StreamHandle stream) {
  if (outer == 0) return;
  const int threads = threads_for(inner);
  if (f64) {
    row_extreme_kernel<double><<<row_grid(outer), threads, 0, stream>>>(
        is_max, static_cast<const double*>(rows), static_cast<double*>(values), indices, outer,
        inner);
  } else {
    row_extreme_kernel<float><<<row_grid(outer), threads, 0, stream>>>(
        is_max, static_cast<const float*>(rows), static_cast<float*>(values), indices, outer,
        inner);
  }
}

void launch_scatter_along_dim(bool f64, void* gx, const void* g, const int64_t* idx, int64_t pre,
                              int64_t n, int64_t post, StreamHandle stream) {
  const int64_t total = pre * post;
  if (total == 0) return;
  if (f64) {
    scatter_dim_kernel<<<grid_for(total), kBlock, 0, stream>>>(
        static_cast<double*>(gx), static_cast<const double*>(g), idx, pre, n, post);
  } else {
    scatter_dim_kernel<<<grid_for(total), kBlock, 0, stream>>>(
        static_cast<float*>(gx), static_cast<const float*>(g), idx, pre, n, post);
  }
}

void launch_abs_pow_sum(DType dtype, const void* x, int64_t n, double p, double* partial,
                        double* result, bool accumulate, StreamHandle stream) {
  constexpr int kPartials = kAbsPowPartials;
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(kPartials, (n + 255) / 256 + 1));
  switch (dtype) {
    case DType::kF32:
      abs_pow_partial<<<grid, 256, 0, stream>>>(static_cast<const float*>(x), n, p, partial);
      break;
    case DType::kF64:
      abs_pow_partial<<<grid, 256, 0, stream>>>(static_cast<const double*>(x), n, p, partial);
      break;
    case DType::kBF16:
      abs_pow_partial<<<grid, 256, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), n, p,
                                                partial);
      break;
    default:
      abs_pow_partial<<<grid, 256, 0, stream>>>(static_cast<const __half*>(x), n, p, partial);
  }
  finish_partials<<<1, 1024, 0, stream>>>(partial, static_cast<int>(grid), isinf(p), accumulate,
                                          result);
}

void launch_scale(DType dtype, void* x, int64_t n, double factor, StreamHandle stream) {
  if (n == 0) return;
  switch (dtype) {
    case DType::kF32:
      return scale_kernel<<<grid_for(n), kBlock, 0, stream>>>(static_cast<float*>(x), n,
                                                              static_cast<float>(factor));
    case DType::kF64:
      return scale_f64<<<grid_for(n), kBlock, 0, stream>>>(static_cast<double*>(x), n, factor);
    case DType::kBF16:
      return scale_kernel<<<grid_for(n), kBlock, 0, stream>>>(static_cast<__nv_bfloat16*>(x), n,
                                                              static_cast<float>(factor));
    default:
      return scale_kernel<<<grid_for(n), kBlock, 0, stream>>>(static_cast<__half*>(x), n,
                                                              static_cast<float>(factor));
  }
}

void launch_cumsum(DType dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner,
                   bool reverse, StreamHandle stream) {
  const int64_t cols = outer * inner;
  if (cols == 0 || n == 0) return;
  switch (dtype) {
    case DType::kF32:
      return cumsum_kernel<float, double><<<grid_for(cols), kBlock, 0, stream>>>(
          static_cast<const float*>(x), static_cast<float*>(out), outer, n, inner, reverse);
    case DType::kF64:
      return cumsum_kernel<double, double><<<grid_for(cols), kBlock, 0, stream>>>(
          static_cast<const double*>(x), static_cast<double*>(out), outer, n, inner, reverse);
    default:
      return cumsum_kernel<int64_t, int64_t><<<grid_for(cols), kBlock, 0, stream>>>(
          static_cast<const int64_t*>(x), static_cast<int64_t*>(out), outer, n, inner, reverse);
  }
}

}  // namespace chorus::cuda
