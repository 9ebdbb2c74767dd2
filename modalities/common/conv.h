// Convolution layers as modules (the engine has the ops, core/ops/conv.h, but no layer yet):
// weight [out, in, k...] and bias [out], PyTorch's default init (kaiming-uniform with
// a = sqrt(5), i.e. W and b uniform in ±1/sqrt(fan_in)), so the encoders' conv front-ends
// start like their PyTorch counterparts.
#pragma once

#include "core/nn/module.h"
#include "core/ops/conv.h"
#include "core/tensor/philox.h"

namespace chorus::modality {

class Conv2d : public nn::Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, const Conv2dOptions& options, Generator& gen);
  Tensor forward(const Tensor& x) const;  // [N, in, H, W] -> [N, out, oh, ow]

  Tensor weight;  // [out, in, k, k]
  Tensor bias;    // [out]

 private:
  Conv2dOptions options_;
};

class Conv1d : public nn::Module {
 public:
  Conv1d(int64_t in, int64_t out, int64_t kernel, const Conv1dOptions& options, Generator& gen);
  Tensor forward(const Tensor& x) const;  // [N, in, L] -> [N, out, oL]

  Tensor weight;  // [out, in, k]
  Tensor bias;    // [out]

 private:
  Conv1dOptions options_;
};

}  // namespace chorus::modality
