// Attention forward: one task per (batch, head, block of kQueryBlock query rows).
//
// Per key tile: S = scale·Q·Kᵀ (GEMM), mask, then per row the online-softmax update
//   m' = max(m, max_j S_j),  P_j = exp(S_j − m'),  l' = l·e^(m−m') + Σ_j P_j,  O' = O·e^(m−m')
// and O' += P·V (GEMM into the output rows themselves). At the end O /= l and
// lse = m + log l is kept for the backward pass.
#include <cmath>
#include <limits>

#include "core/ops/cpu/attention_kernels.h"
#include "core/ops/cpu/attention_tiles.h"
#include "core/ops/cpu/gemm_kernels.h"
#include "core/ops/cpu/vec_math.h"
#include "core/tensor/dispatch.h"

namespace chorus::cpu {
namespace {

using attention::BlockMask;
using attention::kKeyBlock;
using attention::kQueryBlock;
using attention::Rows;

template <class T>
struct ForwardScratch {
  Tensor buffer;  // from the engine allocator, so memory tests see it
  T* scores;      // [kQueryBlock, kKeyBlock]
  T* row_max;     // [kQueryBlock]
  T* row_sum;     // [kQueryBlock]
  T* pad_bias;    // [kKeyBlock]
  explicit ForwardScratch(DType dtype)
      : buffer(Tensor::empty({kQueryBlock * kKeyBlock + 2 * kQueryBlock + kKeyBlock}, dtype)) {
    scores = static_cast<T*>(buffer.raw_data());
    row_max = scores + kQueryBlock * kKeyBlock;
    row_sum = row_max + kQueryBlock;
    pad_bias = row_sum + kQueryBlock;
  }
};

template <class T>
void forward_typed(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                   const Tensor& v, const AttentionParams& p) {
  const int64_t batch = q.size(0), heads = q.size(1), lq = q.size(2), lk = k.size(2);
  const int64_t d = q.size(3), dv = v.size(3);
  const Rows<const T> Q(q), K(k), V(v);
  const Rows<T> O(out);
  T* LSE = static_cast<T*>(lse.raw_data());
  const T scale = static_cast<T>(p.scale);
  const T inf = std::numeric_limits<T>::infinity();
  const int64_t q_blocks = (lq + kQueryBlock - 1) / kQueryBlock;

  auto work = [&](ForwardScratch<T>& ws, int64_t task) {
    const int64_t bh = task / q_blocks;
    int64_t qb = task % q_blocks;
    if (p.causal) qb = q_blocks - 1 - qb;  // costliest blocks first: better load balance
    const int64_t b = bh / heads, h = bh % heads;
    const int64_t i0 = qb * kQueryBlock, mq = std::min(kQueryBlock, lq - i0);
    const T* qrows = Q.at(b, h, i0);
    T* orows = O.at(b, h, i0);
    const uint8_t* pad = p.key_padding ? p.key_padding + b * lk : nullptr;
    std::fill(ws.row_max, ws.row_max + mq, -inf);
    std::fill(ws.row_sum, ws.row_sum + mq, T(0));
    for (int64_t r = 0; r < mq; ++r) std::fill(orows + r * O.ld, orows + r * O.ld + dv, T(0));

    // Under the causal mask the last row of the block sees keys up to i0 + mq - 1.
    const int64_t key_end = p.causal ? std::min(lk, i0 + mq) : lk;
    for (int64_t j0 = 0; j0 < key_end; j0 += kKeyBlock) {
      const int64_t nk = std::min(kKeyBlock, key_end - j0);
      const BlockMask mask = attention::padding_block(pad, j0, nk, ws.pad_bias);
      if (mask == BlockMask::kAll) continue;
      T* s = ws.scores;
      gemm<T>(false, true, mq, nk, d, scale, qrows, Q.ld, K.at(b, h, j0), K.ld, T(0), s, nk);
      for (int64_t r = 0; r < mq; ++r) {
        T* row = s + r * nk;
        const int64_t nv = attention::causal_count(p.causal, i0 + r, j0, nk);
        if (mask == BlockMask::kSome) vec::add(row, ws.pad_bias, nv);
        const T m_old = ws.row_max[r];
        const T m_new = std::max(m_old, nv > 0 ? vec::max(row, nv) : -inf);
        if (m_new == -inf) {  // no visible key in this row so far
          std::fill(row, row + nk, T(0));
          continue;
        }
        const T tile_sum = vec::exp_shift_sum(row, nv, m_new);
        std::fill(row + nv, row + nk, T(0));
        if (m_new != m_old) {  // rescale what was accumulated under the old max
          const T correction = std::exp(m_old - m_new);
          ws.row_sum[r] *= correction;
          vec::scale(orows + r * O.ld, dv, correction);
          ws.row_max[r] = m_new;
        }
        ws.row_sum[r] += tile_sum;
      }
      gemm<T>(false, false, mq, dv, nk, T(1), s, nk, V.at(b, h, j0), V.ld, T(1), orows, O.ld);
    }

    T* lse_rows = LSE + bh * lq + i0;
    for (int64_t r = 0; r < mq; ++r) {
      const T l = ws.row_sum[r];
      if (l > T(0)) {
        vec::scale(orows + r * O.ld, dv, T(1) / l);
        lse_rows[r] = ws.row_max[r] + std::log(l);
      } else {
        lse_rows[r] = inf;  // fully masked row: output stays 0
      }
    }
  };

  BlasSingleThreadScope single_threaded_blas;  // our pool supplies the parallelism
  attention::run_tasks<ForwardScratch<T>>(
      batch * heads * q_blocks, [&] { return ForwardScratch<T>(q.dtype()); }, work,
      [](ForwardScratch<T>&) {});
}

}  // namespace

void attention_forward(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                       const Tensor& v, const AttentionParams& params) {
  CHORUS_CHECK(out.is_contiguous() && lse.is_contiguous(),
               "attention_forward: outputs must be "
               "contiguous");
  CHORUS_DISPATCH_FLOAT(q.dtype(), T, [&] { forward_typed<T>(out, lse, q, k, v, params); });
}

}  // namespace chorus::cpu
