// Attention backward (FlashAttention-2): one task per (batch, head, block of kKeyBlock keys).
//
// With Δ_i = Σ_c dO_ic·O_ic precomputed per query row, each (query block, key block) tile does
//   P  = exp(scale·Q·Kᵀ − lse)       (recomputed, masked entries 0)
//   dV += Pᵀ·dO,   dP = dO·Vᵀ,   dS = P ∘ (dP − Δ)
//   dK += dSᵀ·Q,   dQ += dS·K     (both times scale, applied once at the end)
// A task owns its key block, so dK and dV are written without sharing. dQ rows receive
// contributions from every key block: each thread accumulates them in a private [Lq, D]
// buffer for the (batch, head) it is working on and adds that buffer to dQ under a lock when
// it moves on — O(Lq·D) per thread instead of atomics or an O(Lq·Lk) buffer.
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>

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
struct BackwardScratch {
  Tensor buffer;
  T* probs;     // [kQueryBlock, kKeyBlock]: P
  T* dprobs;    // [kQueryBlock, kKeyBlock]: dP, then dS
  T* pad_bias;  // [kKeyBlock]
  T* dq;        // [Lq, D]: this thread's dQ contributions for head `bh`
  int64_t bh = -1;
  int64_t first_row = 0;  // rows of dq below this were not touched (causal)
  BackwardScratch(DType dtype, int64_t lq, int64_t d)
      : buffer(Tensor::zeros({2 * kQueryBlock * kKeyBlock + kKeyBlock + lq * d}, dtype)) {
    probs = static_cast<T*>(buffer.raw_data());
    dprobs = probs + kQueryBlock * kKeyBlock;
    pad_bias = dprobs + kQueryBlock * kKeyBlock;
    dq = pad_bias + kKeyBlock;
  }
};

template <class T>
void backward_typed(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& q,
                    const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& dout,
                    const Tensor& lse, const AttentionParams& p) {
  const int64_t batch = q.size(0), heads = q.size(1), lq = q.size(2), lk = k.size(2);
  const int64_t d = q.size(3), dv_dim = v.size(3);
  const Rows<const T> Q(q), K(k), V(v), O(out), dO(dout);
  const Rows<T> dQ(dq), dK(dk), dV(dv);
  const T* LSE = static_cast<const T*>(lse.raw_data());
  const T scale = static_cast<T>(p.scale);

  // Δ_i = rowsum(dO ∘ O).
  Tensor delta_t = Tensor::empty({batch * heads * lq}, q.dtype());
  T* delta = static_cast<T*>(delta_t.raw_data());
  parallel_for(0, batch * heads * lq, std::max<int64_t>(1, kElementwiseGrain / (dv_dim + 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const int64_t b = r / (heads * lq), h = (r / lq) % heads, i = r % lq;
                   delta[r] = vec::dot(dO.at(b, h, i), O.at(b, h, i), dv_dim);
                 }
               });
  std::memset(dq.raw_data(), 0, dq.nbytes());

  std::array<std::mutex, 64> dq_locks;  // striped by (batch, head)
  auto flush = [&](BackwardScratch<T>& ws) {
    if (ws.bh < 0) return;
    const int64_t b = ws.bh / heads, h = ws.bh % heads;
    {
      std::lock_guard<std::mutex> lock(dq_locks[ws.bh % dq_locks.size()]);
      for (int64_t i = ws.first_row; i < lq; ++i) {
        vec::axpy(dQ.at(b, h, i), ws.dq + i * d, d, scale);
      }
    }
    std::fill(ws.dq + ws.first_row * d, ws.dq + lq * d, T(0));
    ws.bh = -1;
  };

  const int64_t k_blocks = (lk + kKeyBlock - 1) / kKeyBlock;
  auto work = [&](BackwardScratch<T>& ws, int64_t task) {
    const int64_t bh = task / k_blocks, kb = task % k_blocks;
    const int64_t b = bh / heads, h = bh % heads;
    const int64_t j0 = kb * kKeyBlock, nk = std::min(kKeyBlock, lk - j0);
    T* dk_rows = dK.at(b, h, j0);
    T* dv_rows = dV.at(b, h, j0);
    for (int64_t j = 0; j < nk; ++j) {
      std::fill(dk_rows + j * dK.ld, dk_rows + j * dK.ld + d, T(0));
      std::fill(dv_rows + j * dV.ld, dv_rows + j * dV.ld + dv_dim, T(0));
    }
    const uint8_t* pad = p.key_padding ? p.key_padding + b * lk : nullptr;
    const BlockMask mask = attention::padding_block(pad, j0, nk, ws.pad_bias);
    if (mask == BlockMask::kAll) return;
    if (ws.bh != bh) {
      flush(ws);
      ws.bh = bh;
      ws.first_row = lq;
    }
    // Under the causal mask only rows i >= j0 see this block.
    const int64_t i_start = p.causal ? j0 / kQueryBlock * kQueryBlock : 0;
    ws.first_row = std::min(ws.first_row, i_start);
    const T* krows = K.at(b, h, j0);
    const T* vrows = V.at(b, h, j0);
    for (int64_t i0 = i_start; i0 < lq; i0 += kQueryBlock) {
      const int64_t mq = std::min(kQueryBlock, lq - i0);
      const T* qrows = Q.at(b, h, i0);
      const T* dorows = dO.at(b, h, i0);
      T* pr = ws.probs;
      T* ds = ws.dprobs;
      gemm<T>(false, true, mq, nk, d, scale, qrows, Q.ld, krows, K.ld, T(0), pr, nk);
      for (int64_t r = 0; r < mq; ++r) {
        T* row = pr + r * nk;
        const int64_t nv = attention::causal_count(p.causal, i0 + r, j0, nk);
        const T row_lse = LSE[bh * lq + i0 + r];
        if (nv == 0 || std::isinf(row_lse)) {
          std::fill(row, row + nk, T(0));
          continue;
        }
        if (mask == BlockMask::kSome) vec::add(row, ws.pad_bias, nv);
        vec::exp_shift_sum(row, nv, row_lse);
        std::fill(row + nv, row + nk, T(0));
      }
      gemm<T>(true, false, nk, dv_dim, mq, T(1), pr, nk, dorows, dO.ld, T(1), dv_rows, dV.ld);
      gemm<T>(false, true, mq, nk, dv_dim, T(1), dorows, dO.ld, vrows, V.ld, T(0), ds, nk);
      for (int64_t r = 0; r < mq; ++r) {
        vec::softmax_grad(ds + r * nk, pr + r * nk, nk, delta[bh * lq + i0 + r]);
      }
      gemm<T>(false, false, mq, d, nk, T(1), ds, nk, krows, K.ld, T(1), ws.dq + i0 * d, d);
      gemm<T>(true, false, nk, d, mq, T(1), ds, nk, qrows, Q.ld, T(1), dk_rows, dK.ld);
    }
    for (int64_t j = 0; j < nk; ++j) vec::scale(dk_rows + j * dK.ld, d, scale);
  };

  BlasSingleThreadScope single_threaded_blas;
  attention::run_tasks<BackwardScratch<T>>(
      batch * heads * k_blocks, [&] { return BackwardScratch<T>(q.dtype(), lq, d); }, work, flush);
}

}  // namespace

void attention_backward(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& q,
                        const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& dout,
                        const Tensor& lse, const AttentionParams& params) {
  CHORUS_CHECK(
      dq.is_contiguous() && dk.is_contiguous() && dv.is_contiguous() && lse.is_contiguous(),
      "attention_backward: gradients and lse must be contiguous");
  CHORUS_DISPATCH_FLOAT(q.dtype(), T,
                        [&] { backward_typed<T>(dq, dk, dv, q, k, v, out, dout, lse, params); });
}

}  // namespace chorus::cpu
