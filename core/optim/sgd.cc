#include "core/optim/sgd.h"

#include <cmath>

#include "core/ops/fused_sgd.h"

namespace chorus::optim {
namespace {

std::vector<NamedTensors> params_of(const std::vector<ParamGroup<SGDOptions>>& groups) {
  std::vector<NamedTensors> out;
  for (const auto& g : groups) out.push_back(g.params);
  return out;
}

std::vector<double> lrs_of(const std::vector<ParamGroup<SGDOptions>>& groups) {
  std::vector<double> out;
  for (const auto& g : groups) out.push_back(g.options.lr);
  return out;
}

void check_options(const SGDOptions& o, size_t group) {
  CHORUS_CHECK(std::isfinite(o.momentum) && o.momentum >= 0, "SGD group ", group,
               ": invalid momentum ", o.momentum);
  CHORUS_CHECK(std::isfinite(o.dampening), "SGD group ", group, ": invalid dampening ",
               o.dampening);
  CHORUS_CHECK(std::isfinite(o.weight_decay) && o.weight_decay >= 0, "SGD group ", group,
               ": invalid weight_decay ", o.weight_decay);
  CHORUS_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD group ", group,
               ": nesterov needs momentum > 0 and dampening 0");
}

}  // namespace

SGD::SGD(std::vector<ParamGroup<SGDOptions>> groups)
    : Optimizer(params_of(groups), lrs_of(groups)) {
  for (size_t g = 0; g < groups.size(); ++g) {
    check_options(groups[g].options, g);
    options_.push_back(groups[g].options);
  }
}

SGD::SGD(NamedTensors params, const SGDOptions& options)
    : SGD(std::vector<ParamGroup<SGDOptions>>{{std::move(params), options}}) {}

SGDOptions SGD::options(int64_t group) const {
  params(group);  // range check
  SGDOptions o = options_[group];
  o.lr = lr(group);
  return o;
}

std::vector<std::string> SGD::buffer_names(int64_t group) const {
  if (options_[group].momentum == 0.0) return {};
  return {"momentum_buffer"};
}

void SGD::update(int64_t group, const Tensor& target, const Tensor& grad, ParamState& state,
                 const Tensor& model) {
  const SGDOptions& o = options_[group];
  Tensor buf;
  bool created = false;
  if (o.momentum != 0.0) buf = buffer(state, "momentum_buffer", target, &created);
  fused_sgd_(target, grad, buf,
             SGDStep{lr(group), o.momentum, o.dampening, o.weight_decay, o.nesterov, created},
             model);
}

}  // namespace chorus::optim
