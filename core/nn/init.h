// Parameter initialisation from the Philox stream of a Generator.
//
// Every function returns a fresh CPU tensor of `dtype` (any floating dtype; values are drawn
// in double and rounded once) and advances `gen`, so building a model with Generator(seed)
// gives the same weights on every run and on every backend. Draws never depend on the number
// of threads: element i always takes the same words of the stream.
//
// Stream layout (documented so the CUDA backend can reproduce it):
//   uniform       element i uses word i of a draw of n words: lo + (hi - lo)·u, u in [0, 1).
//   normal        element pair (2j, 2j+1) uses words 2j, 2j+1 (Box–Muller: the cosine and the
//                 sine branch); an odd n drops the last sine.
//   trunc_normal  rounds of rejection: in each round every still-rejected element i redraws
//                 from words 2i, 2i+1 of a fresh 2n-word draw (cosine branch only); after
//                 kTruncRounds rounds any survivor is placed by the inverse normal CDF.
//
// Fans follow PyTorch for a weight [out, in, k...]: fan_in = in·Πk, fan_out = out·Πk.
#pragma once

#include <utility>

#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus::nn::init {

inline constexpr int kTruncRounds = 16;

// (fan_in, fan_out) of a weight; needs at least 2 dims (a 1-D tensor has fan_in = fan_out =
// its size, as for biases).
std::pair<int64_t, int64_t> fans(const Shape& shape);

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::kF32);
Tensor normal(const Shape& shape, double mean, double std, Generator& gen,
              DType dtype = DType::kF32);
// Normal(mean, std) conditioned on [lo, hi] (absolute bounds, lo < hi). Transformers commonly
// use std 0.02 cut at ±2 std: trunc_normal(shape, 0.0, 0.02, -0.04, 0.04, gen).
Tensor trunc_normal(const Shape& shape, double mean, double std, double lo, double hi,
                    Generator& gen, DType dtype = DType::kF32);

// He et al. 2015 for a weight [out, in, ...] with fan = fan_in: uniform bound gain·sqrt(3/fan),
// normal std gain/sqrt(fan). gain sqrt(2) suits ReLU; gain sqrt(1/3) gives PyTorch's default
// nn.Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Tensor kaiming_uniform(const Shape& shape, Generator& gen, double gain = 1.4142135623730951,
                       DType dtype = DType::kF32);
Tensor kaiming_normal(const Shape& shape, Generator& gen, double gain = 1.4142135623730951,
                      DType dtype = DType::kF32);
// Glorot & Bengio 2010: bound gain·sqrt(6/(fan_in+fan_out)), std gain·sqrt(2/(fan_in+fan_out)).
Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain = 1.0,
                      DType dtype = DType::kF32);
Tensor xavier_normal(const Shape& shape, Generator& gen, double gain = 1.0,
                     DType dtype = DType::kF32);

}  // namespace chorus::nn::init
