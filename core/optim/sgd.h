// SGD with momentum, dampening, Nesterov and (L2) weight decay, with torch.optim.SGD's update.
// Each parameter's update is one fused pass (core/ops/fused_sgd.h).
#pragma once

#include <vector>

#include "core/optim/optimizer.h"

namespace chorus::optim {

struct SGDOptions {
  double lr = 0.01;  // PyTorch has no default; 0.01 is the common choice
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;  // added to the gradient (L2), not decoupled as in AdamW
  bool nesterov = false;      // needs momentum > 0 and dampening 0
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<ParamGroup<SGDOptions>> groups);
  explicit SGD(NamedTensors params, const SGDOptions& options = {});

  SGDOptions options(int64_t group) const;

 protected:
  void update(int64_t group, const Tensor& target, const Tensor& grad, ParamState& state,
              const Tensor& model) override;
  // "momentum_buffer" when the group's momentum is non-zero, else nothing.
  std::vector<std::string> buffer_names(int64_t group) const override;

 private:
  std::vector<SGDOptions> options_;
};

}  // namespace chorus::optim
