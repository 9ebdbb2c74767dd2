// Pieces shared by the attention forward and backward kernels: tile sizes, strided operand
// access, key-padding blocks and a dynamic task loop. Internal to core/ops/cpu.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>

#include "core/tensor/parallel.h"
#include "core/tensor/tensor.h"

namespace chorus::cpu::attention {

// Query rows per task and keys per tile. A tile's GEMMs are then 64×256×D and 64×D×256:
// large enough for BLAS to run near peak, small enough (64 KiB of scores) to stay in L2.
inline constexpr int64_t kQueryBlock = 64;
inline constexpr int64_t kKeyBlock = 256;

// One of q/k/v/out/dout: element (b, h, l, 0) of a [B, H, L, D] tensor with dense rows.
template <class T>
struct Rows {
  T* base;
  int64_t sb, sh, ld;
  Rows(const Tensor& t)  // NOLINT: implicit on purpose, to read kernel arguments uniformly
      : base(static_cast<T*>(t.raw_data())),
        sb(t.stride(0)),
        sh(t.stride(1)),
        ld(std::max<int64_t>({t.stride(2), t.size(3), 1})) {}
  T* at(int64_t b, int64_t h, int64_t l) const { return base + b * sb + h * sh + l * ld; }
};

// How key padding affects one key block: nothing hidden, everything hidden, or some keys
// (then `bias` holds 0 for visible and -inf for hidden keys, to add to score rows).
enum class BlockMask { kNone, kAll, kSome };
template <class T>
BlockMask padding_block(const uint8_t* pad, int64_t j0, int64_t n, T* bias) {
  if (pad == nullptr) return BlockMask::kNone;
  int64_t hidden = 0;
  for (int64_t j = 0; j < n; ++j) hidden += pad[j0 + j] != 0;
  if (hidden == 0) return BlockMask::kNone;
  if (hidden == n) return BlockMask::kAll;
  for (int64_t j = 0; j < n; ++j) {
    bias[j] = pad[j0 + j] ? -std::numeric_limits<T>::infinity() : T(0);
  }
  return BlockMask::kSome;
}

// Keys of block [j0, j0 + n) that query row i may see under the causal mask: [j0, j0 + count).
inline int64_t causal_count(bool causal, int64_t i, int64_t j0, int64_t n) {
  return causal ? std::clamp<int64_t>(i + 1 - j0, 0, n) : n;
}

// Runs work(state, task) for task in [0, tasks), handing tasks to the pool's threads one at a
// time (causal tiles differ in cost, so static chunks would leave threads idle). Each thread
// makes its own State once, lazily; finish(state) runs on every State made.
template <class State, class Make, class Work, class Finish>
void run_tasks(int64_t tasks, Make make, Work work, Finish finish) {
  std::atomic<int64_t> next{0};
  const int64_t workers = std::min<int64_t>(num_threads(), tasks);
  parallel_for(0, workers, 1, [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; ++w) {
      int64_t t = next.fetch_add(1);
      if (t >= tasks) return;
      State state = make();
      for (; t < tasks; t = next.fetch_add(1)) work(state, t);
      finish(state);
    }
  });
}

}  // namespace chorus::cpu::attention
