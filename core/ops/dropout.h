// Dropout.
#pragma once

#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus {

// When training with p > 0: zeroes each element with probability p and scales the others by
// 1/(1-p) (p = 1 gives zeros). The mask comes from the Philox stream of `gen`: element i
// (row-major) is kept iff uniform_from_word(philox_word(seed, offset, i)) >= p with
// offset = gen.reserve(numel), so it is a pure function of (seed, offset, i) that the CUDA
// backend reproduces bit for bit. Backward reuses the saved mask. When not training, or
// p == 0, returns x itself and draws nothing from gen. p must lie in [0, 1].
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

}  // namespace chorus
