// Fused cross-entropy: one block per row. The forward reads the row once (an online
// max/sum-of-exp that rescales when the maximum grows), the backward reads it once and writes
// the gradient once, so both run at memory bandwidth for vocabularies of any size. Rows are read
// as 16-byte vectors, 4 in flight per thread, with the few elements before and after a row's
// aligned middle read one by one (an odd vocabulary such as 50257 starts every row at a
// different offset within 16 bytes; it took one scalar load per element before: 24% of the copy
// bandwidth on the H200, 81% now).
#include <algorithm>

#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/loss_launch.h"
#include "core/ops/cuda/row_regs.cuh"

namespace chorus::cuda {
namespace {

using row_detail::Acc;
using row_detail::fast_exp;
using row_detail::load_stream;
using row_detail::Pack;

template <class A>
__device__ __forceinline__ void online_add(A v, A& m, A& s) {
  if (v == A(-INFINITY)) return;  // contributes exp(-inf) = 0; would make -inf - -inf = NaN
  if (v > m) {
    s = s * exp(m - v) + A(1);
    m = v;
  } else {
    s += exp(v - m);
  }
}

// Where a row's 16-byte-aligned middle starts and how many 16-byte vectors it holds: each row
// of an odd vocabulary (50257) starts at a different offset within 16 bytes, so the first
// `head` elements (fewer than W) and the last few are read one by one and the rest as vectors.
template <class T>
struct RowSplit {
  int64_t head, vecs, tail_start;
  __device__ RowSplit(const T* row, int64_t c) {
    constexpr int64_t W = Pack<T>::kWidth;
    const int64_t mis = static_cast<int64_t>((reinterpret_cast<uintptr_t>(row) & 15) / sizeof(T));
    head = mis == 0 ? 0 : (W - mis < c ? W - mis : c);
    vecs = (c - head) / W;
    tail_start = head + vecs * W;
  }
};

// Vectors in flight per thread and iteration.
constexpr int kUnroll = 4;

// Adds W values to a thread's running (max m, Σ e^(x - m)): one rescale per vector instead of
// one comparison and branch per element. -inf values add nothing; a +inf takes the per-element
// path so that inf - inf never reaches the sum unless it did before.
template <class A, int W, bool kSmooth>
__device__ __forceinline__ void add_vector(const A* v, A& m, A& s, A& sum) {
  A cm = v[0];
#pragma unroll
  for (int k = 1; k < W; ++k) cm = fmax(cm, v[k]);
  if (kSmooth) {
#pragma unroll
    for (int k = 0; k < W; ++k) sum += v[k];
  }
  if (cm == A(-INFINITY)) return;
  if (cm == A(INFINITY)) {
#pragma unroll
    for (int k = 0; k < W; ++k) online_add(v[k], m, s);
    return;
  }
  if (cm > m) {
    s *= fast_exp(m - cm);
    m = cm;
  }
#pragma unroll
  for (int k = 0; k < W; ++k) s += fast_exp(v[k] - m);
}

template <class T, bool kSmooth>
__global__ void __launch_bounds__(512)
    ce_forward(Acc<T>* loss, Acc<T>* lse, const T* x, const int64_t* targets, int64_t n, int64_t c,
               int64_t ignore, Acc<T> eps) {
  using A = Acc<T>;
  constexpr int W = Pack<T>::kWidth;
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    const int64_t t = targets[r];
    if (t == ignore) {
      if (threadIdx.x == 0) loss[r] = lse[r] = A(0);
      continue;
    }
    if (t < 0 || t >= c) {  // targets are not checked on the host for device logits (loss.h)
      if (threadIdx.x == 0) loss[r] = lse[r] = A(NAN);
      continue;
    }
    const T* row = x + r * c;
    const RowSplit<T> split(row, c);
    const T* body = row + split.head;
    A m = -INFINITY, s = 0, sum = 0;
    // The unaligned ends (fewer than W elements each, blockDim >= 32 > W), loaded before the
    // vectors so that their latency overlaps.
    const int64_t tail = split.tail_start + threadIdx.x;
    const bool has_head = threadIdx.x < split.head, has_tail = tail < c;
    const A head_v = has_head ? RowIo<T>::load(row, threadIdx.x) : A(0);
    const A tail_v = has_tail ? RowIo<T>::load(row, tail) : A(0);
    for (int64_t base = threadIdx.x; base < split.vecs; base += int64_t{blockDim.x} * kUnroll) {
      uint4 raw[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t i = base + int64_t{u} * blockDim.x;
        if (i < split.vecs) raw[u] = load_stream(body + i * W);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        if (base + int64_t{u} * blockDim.x < split.vecs) {
          A v[W];
          Pack<T>::unpack(raw[u], v);
          add_vector<A, W, kSmooth>(v, m, s, sum);
        }
      }
    }
    if (has_head) {
      online_add(head_v, m, s);
      if (kSmooth) sum += head_v;
    }
    if (has_tail) {
      online_add(tail_v, m, s);
      if (kSmooth) sum += tail_v;
    }
    const A mall = block_max(m, scratch);
    s = s == A(0) ? A(0) : s * exp(m - mall);
    s = block_sum(s, scratch);
    if (kSmooth) sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
      const A l = mall + log(s);
      lse[r] = l;
      loss[r] = l - (A(1) - eps) * RowIo<T>::load(row, t) - eps * (sum / static_cast<A>(c));
    }
  }
}

// `vec`: gx and the logits have the same offset within 16 bytes (then every row's aligned
// middle is the same for both); otherwise one element at a time.
template <class T>
__global__ void __launch_bounds__(512)
    ce_backward(T* gx, const Acc<T>* grad, bool per_row, Acc<T> factor, const T* x,
                const int64_t* targets, const Acc<T>* lse, int64_t n, int64_t c, int64_t ignore,
                Acc<T> eps, bool vec) {
  using A = Acc<T>;
  constexpr int W = Pack<T>::kWidth;
  for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    const int64_t t = targets[r];
    T* out = gx + r * c;
    const T* row = x + r * c;
    const bool ignored = t == ignore;
    const A s = ignored ? A(0) : (per_row ? grad[r] : grad[0]) * factor;
    const A l = ignored ? A(0) : lse[r];
    const A off = s * eps / static_cast<A>(c), hit = s * (A(1) - eps);
    auto value = [&](A v, int64_t j) {
      return ignored ? A(0) : fast_exp(v - l) * s - off - (j == t ? hit : A(0));
    };
    if (!vec) {
      for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
        RowIo<T>::store(out, j, value(RowIo<T>::load(row, j), j));
      }
      continue;
    }
    const RowSplit<T> split(row, c);
    const int64_t head = split.head, vecs = split.vecs;
    // The unaligned ends first (fewer than W elements each, blockDim >= 32 > W): their loads
    // overlap the vectors'.
    const int64_t tail = split.tail_start + threadIdx.x;
    const bool has_head = threadIdx.x < head, has_tail = tail < c;
    const A head_v = has_head ? RowIo<T>::load(row, threadIdx.x) : A(0);
    const A tail_v = has_tail ? RowIo<T>::load(row, tail) : A(0);
    const T* body = row + head;
    T* obody = out + head;
    for (int64_t base = threadIdx.x; base < vecs; base += int64_t{blockDim.x} * kUnroll) {
      uint4 raw[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t i = base + int64_t{u} * blockDim.x;
        if (i < vecs) raw[u] = load_stream(body + i * W);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t i = base + int64_t{u} * blockDim.x;
        if (i < vecs) {
          A v[W];
          Pack<T>::unpack(raw[u], v);
#pragma unroll
          for (int k = 0; k < W; ++k) v[k] = value(v[k], head + i * W + k);
          *reinterpret_cast<uint4*>(obody + i * W) = Pack<T>::pack(v);
        }
      }
    }
    if (has_head) RowIo<T>::store(out, threadIdx.x, value(head_v, threadIdx.x));
    if (has_tail) RowIo<T>::store(out, tail, value(tail_v, tail));
  }
}

// Threads per row: enough for kUnroll vectors each in one pass, 32..512.
template <class T>
int threads_for(int64_t c) {
  const int64_t per_pass = (c / Pack<T>::kWidth + kUnroll - 1) / kUnroll;
  int t = 32;
  while (t < 512 && t < per_pass) t *= 2;
  return t;
}
unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::clamp<int64_t>(n, 1, 65535 * 16));
}

template <class T>
void forward(void* loss, void* lse, const void* logits, const int64_t* targets, int64_t n,
             int64_t c, int64_t ignore, double eps, StreamHandle stream) {
  using A = Acc<T>;
  auto launch = [&](auto kernel) {
    kernel<<<blocks_for(n), threads_for<T>(c), 0, stream>>>(
        static_cast<A*>(loss), static_cast<A*>(lse), static_cast<const T*>(logits), targets, n, c,
        ignore, static_cast<A>(eps));
  };
  if (eps != 0.0) {
    launch(ce_forward<T, true>);
  } else {
    launch(ce_forward<T, false>);
  }
}

template <class T>
void backward(void* gx, const void* grad, bool per_row, double factor, const void* logits,
              const int64_t* targets, const void* lse, int64_t n, int64_t c, int64_t ignore,
              double eps, StreamHandle stream) {
  using A = Acc<T>;
  const bool vec =
      ((reinterpret_cast<uintptr_t>(gx) - reinterpret_cast<uintptr_t>(logits)) & 15) == 0;
  ce_backward<T><<<blocks_for(n), threads_for<T>(c), 0, stream>>>(
      static_cast<T*>(gx), static_cast<const A*>(grad), per_row, static_cast<A>(factor),
      static_cast<const T*>(logits), targets, static_cast<const A*>(lse), n, c, ignore,
      static_cast<A>(eps), vec);
}

}  // namespace

void launch_cross_entropy_forward(DType io, void* loss, void* lse, const void* logits,
                                  const int64_t* targets, int64_t n, int64_t c,
                                  int64_t ignore_index, double smoothing, StreamHandle stream) {
  if (n == 0) return;
  switch (io) {
    case DType::kF32:
      return forward<float>(loss, lse, logits, targets, n, c, ignore_index, smoothing, stream);
    case DType::kF64:
      return forward<double>(loss, lse, logits, targets, n, c, ignore_index, smoothing, stream);
    default:
      return forward<uint16_t>(loss, lse, logits, targets, n, c, ignore_index, smoothing, stream);
  }
}

void launch_cross_entropy_backward(DType io, void* gx, const void* grad, bool per_row,
                                   double factor, const void* logits, const int64_t* targets,
                                   const void* lse, int64_t n, int64_t c, int64_t ignore_index,
                                   double smoothing, StreamHandle stream) {
  if (n == 0 || c == 0) return;
  switch (io) {
    case DType::kF32:
      return backward<float>(gx, grad, per_row, factor, logits, targets, lse, n, c, ignore_index,
                             smoothing, stream);
    case DType::kF64:
      return backward<double>(gx, grad, per_row, factor, logits, targets, lse, n, c, ignore_index,
                              smoothing, stream);
    default:
      return backward<uint16_t>(gx, grad, per_row, factor, logits, targets, lse, n, c, ignore_index,
                                smoothing, stream);
  }
}

}  // namespace chorus::cuda
