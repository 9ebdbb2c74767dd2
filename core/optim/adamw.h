// AdamW (Loshchilov & Hutter, decoupled weight decay) with torch.optim.AdamW's defaults and
// update (amsgrad off). Each parameter's update is one fused pass (core/ops/fused_adamw.h).
#pragma once

#include <vector>

#include "core/optim/optimizer.h"

namespace chorus::optim {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW : public Optimizer {
 public:
  explicit AdamW(std::vector<ParamGroup<AdamWOptions>> groups);
  // One group.
  explicit AdamW(NamedTensors params, const AdamWOptions& options = {});

  // The group's options (lr as currently set, e.g. by a schedule).
  AdamWOptions options(int64_t group) const;

 protected:
  void update(int64_t group, const Tensor& target, const Tensor& grad, ParamState& state,
              const Tensor& model) override;
  std::vector<std::string> buffer_names(int64_t group) const override;

 private:
  std::vector<AdamWOptions> options_;
};

}  // namespace chorus::optim
