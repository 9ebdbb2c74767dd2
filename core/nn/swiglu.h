// SwiGLU feed-forward (Shazeer 2020, "GLU Variants Improve Transformer"; LLaMA's FFN):
//   y = (silu(x·W1ᵀ) ⊙ x·W3ᵀ)·W2ᵀ
// with the LLaMA names: w1 the gate, w3 the up projection, w2 the down projection. Three
// matrices instead of two, so a hidden width of about 8/3·dim matches an MLP of 4·dim.
#pragma once

#include <memory>
#include <optional>

#include "core/nn/feed_forward.h"
#include "core/nn/linear.h"

namespace chorus::nn {

struct SwiGLUOptions {
  bool bias = false;
  // As in MLPOptions: init_std for w1 and w3, out_init_std (default init_std) for w2.
  std::optional<double> init_std;
  std::optional<double> out_init_std;
  DType dtype = DType::kF32;
};

class SwiGLU : public FeedForward {
 public:
  SwiGLU(int64_t dim, int64_t hidden, Generator& gen, const SwiGLUOptions& options = {});

  Tensor forward(const Tensor& x) const;
  FeedForwardOutput forward(const Tensor& x, const ForwardContext& ctx) override {
    return {forward(x), Tensor()};
  }

  std::shared_ptr<Linear> w1;  // dim -> hidden, gate
  std::shared_ptr<Linear> w2;  // hidden -> dim, down
  std::shared_ptr<Linear> w3;  // dim -> hidden, up
};

}  // namespace chorus::nn
