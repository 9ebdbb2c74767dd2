#include "core/optim/adamw.h"

#include <cmath>

#include "core/ops/fused_adamw.h"

namespace chorus::optim {
namespace {

std::vector<NamedTensors> params_of(const std::vector<ParamGroup<AdamWOptions>>& groups) {
  std::vector<NamedTensors> out;
  for (const auto& g : groups) out.push_back(g.params);
  return out;
}

std::vector<double> lrs_of(const std::vector<ParamGroup<AdamWOptions>>& groups) {
  std::vector<double> out;
  for (const auto& g : groups) out.push_back(g.options.lr);
  return out;
}

void check_options(const AdamWOptions& o, size_t group) {
  CHORUS_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, "AdamW group ", group,
               ": betas must be in [0, 1), got (", o.beta1, ", ", o.beta2, ")");
  CHORUS_CHECK(std::isfinite(o.eps) && o.eps >= 0, "AdamW group ", group, ": invalid eps ", o.eps);
  CHORUS_CHECK(std::isfinite(o.weight_decay) && o.weight_decay >= 0, "AdamW group ", group,
               ": invalid weight_decay ", o.weight_decay);
}

}  // namespace

AdamW::AdamW(std::vector<ParamGroup<AdamWOptions>> groups)
    : Optimizer(params_of(groups), lrs_of(groups)) {
  for (size_t g = 0; g < groups.size(); ++g) {
    check_options(groups[g].options, g);
    options_.push_back(groups[g].options);
  }
}

AdamW::AdamW(NamedTensors params, const AdamWOptions& options)
    : AdamW(std::vector<ParamGroup<AdamWOptions>>{{std::move(params), options}}) {}

AdamWOptions AdamW::options(int64_t group) const {
  params(group);  // range check
  AdamWOptions o = options_[group];
  o.lr = lr(group);
  return o;
}

std::vector<std::string> AdamW::buffer_names(int64_t) const { return {"exp_avg", "exp_avg_sq"}; }

void AdamW::update(int64_t group, const Tensor& target, const Tensor& grad, ParamState& state,
                   const Tensor& model) {
  const AdamWOptions& o = options_[group];
  const Tensor& exp_avg = buffer(state, "exp_avg", target);
  const Tensor& exp_avg_sq = buffer(state, "exp_avg_sq", target);
  fused_adamw_(target, grad, exp_avg, exp_avg_sq,
               AdamWStep{lr(group), o.beta1, o.beta2, o.eps, o.weight_decay, state.step}, model);
}

}  // namespace chorus::optim
