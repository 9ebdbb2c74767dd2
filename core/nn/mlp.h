// MLP: the classic transformer feed-forward layer, fc2(gelu(fc1(x))) (GPT-2, BERT, ViT).
#pragma once

#include <memory>
#include <optional>

#include "core/nn/feed_forward.h"
#include "core/nn/linear.h"
#include "core/ops/elementwise.h"

namespace chorus::nn {

struct MLPOptions {
  bool bias = true;
  GeluApprox approx = GeluApprox::kNone;  // kTanh for GPT-2's approximation
  // Unset: PyTorch's default Linear init. Set: trunc-normal init with this std for fc1, and
  // out_init_std (default: init_std) for fc2, which residual-scaled inits shrink.
  std::optional<double> init_std;
  std::optional<double> out_init_std;
  DType dtype = DType::kF32;
};

class MLP : public FeedForward {
 public:
  MLP(int64_t dim, int64_t hidden, Generator& gen, const MLPOptions& options = {});

  Tensor forward(const Tensor& x) const;
  FeedForwardOutput forward(const Tensor& x, const ForwardContext& ctx) override {
    return {forward(x), Tensor()};
  }

  std::shared_ptr<Linear> fc1;  // dim -> hidden
  std::shared_ptr<Linear> fc2;  // hidden -> dim

 private:
  GeluApprox approx_;
};

}  // namespace chorus::nn
