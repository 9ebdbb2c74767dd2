#include "core/optim/optimizer.h"

#include <cmath>
#include <map>
#include <set>

#include "core/autograd/node.h"
#include "core/optim/half_precision.h"

namespace chorus::optim {

Optimizer::Optimizer(std::vector<NamedTensors> group_params, const std::vector<double>& group_lrs)
    : groups_(std::move(group_params)), lrs_(group_lrs) {
  CHORUS_CHECK(groups_.size() == lrs_.size(), "optimizer: ", groups_.size(), " groups but ",
               lrs_.size(), " learning rates");
  std::map<const TensorImpl*, std::string> seen;
  for (size_t g = 0; g < groups_.size(); ++g) {
    CHORUS_CHECK(std::isfinite(lrs_[g]) && lrs_[g] >= 0, "optimizer: group ", g, " has invalid lr ",
                 lrs_[g]);
    for (const auto& [name, p] : groups_[g]) {
      CHORUS_CHECK(p.defined(), "optimizer: parameter '", name, "' is undefined");
      const DType d = p.dtype();
      CHORUS_CHECK(d == DType::kF32 || d == DType::kF64 || is_half_precision(d),
                   "optimizer: parameter '", name, "' has dtype ", dtype_name(d),
                   " (expected f32, f64, bf16 or f16)");
      CHORUS_CHECK(!group_of_.count(name), "optimizer: parameter name '", name, "' appears twice");
      // A tensor updated twice per step would silently get double the step.
      auto [it, fresh] = seen.emplace(p.impl(), name);
      CHORUS_CHECK(fresh, "optimizer: parameters '", it->second, "' and '", name,
                   "' are the same tensor");
      group_of_[name] = static_cast<int64_t>(g);
    }
  }
}

const NamedTensors& Optimizer::params(int64_t group) const {
  CHORUS_CHECK(group >= 0 && group < num_groups(), "optimizer: no group ", group, " (",
               num_groups(), " groups)");
  return groups_[group];
}

double Optimizer::lr(int64_t group) const {
  params(group);  // range check
  return lrs_[group];
}

void Optimizer::set_lr(double lr, int64_t group) {
  params(group);
  CHORUS_CHECK(std::isfinite(lr) && lr >= 0, "optimizer: invalid lr ", lr);
  lrs_[group] = lr;
}

void Optimizer::set_lr(double lr) {
  for (int64_t g = 0; g < num_groups(); ++g) set_lr(lr, g);
}

const ParamState* Optimizer::state(const std::string& name) const {
  auto it = state_.find(name);
  return it == state_.end() ? nullptr : &it->second;
}

Tensor& Optimizer::buffer(ParamState& state, const std::string& name, const Tensor& like,
                          bool* created) {
  auto it = state.buffers.find(name);
  const bool missing = it == state.buffers.end();
  if (created) *created = missing;
  if (missing) {
    it =
        state.buffers.emplace(name, Tensor::zeros(like.shape(), like.dtype(), like.device())).first;
  }
  return it->second;
}

void Optimizer::step() {
  autograd::NoGradGuard no_grad;
  // Bad gradients are reported before anything is updated, so a failed step changes nothing.
  for (const NamedTensors& group : groups_) {
    for (const auto& [name, p] : group) {
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      CHORUS_CHECK(grad.shape() == p.shape() && is_floating(grad.dtype()),
                   "optimizer: gradient of '", name, "' is ", dtype_name(grad.dtype()),
                   shape_str(grad.shape()), ", parameter is ", dtype_name(p.dtype()),
                   shape_str(p.shape()));
      CHORUS_CHECK(grad.device() == p.device(), "optimizer: gradient of '", name, "' is on ",
                   grad.device().ToString(), ", parameter on ", p.device().ToString());
    }
  }
  for (int64_t g = 0; g < num_groups(); ++g) {
    for (const auto& [name, p] : groups_[g]) {
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      ParamState& st = state_[name];
      const bool low = is_half_precision(p.dtype());
      if (st.step == 0 && low && !st.master.defined()) {
        st.master = Tensor::empty(p.shape(), DType::kF32, p.device());
        st.master.copy_(p);
      }
      // Module::to() can change a parameter's dtype in place; state made for the old dtype
      // would then be silently wrong.
      CHORUS_CHECK(low == st.master.defined(), "optimizer: parameter '", name,
                   "' changed dtype to ", dtype_name(p.dtype()),
                   " after its optimizer state was created");
      ++st.step;
      if (low) {
        update(g, st.master, grad, st, p);
      } else {
        update(g, p, grad, st, Tensor());
      }
    }
  }
  ++steps_;
}

void Optimizer::zero_grad() {
  for (const NamedTensors& group : groups_) {
    for (const auto& [_, p] : group) {
      if (p.grad().defined()) p.set_grad(Tensor());
    }
  }
}

// ---------------------------------------------------------------- weight-decay groups

bool default_no_decay(const std::string& name, const Tensor& param) {
  if (param.dim() <= 1) return true;
  const size_t dot = name.rfind('.');
  const std::string leaf = dot == std::string::npos ? name : name.substr(dot + 1);
  return leaf == "bias" || leaf.rfind("bias_", 0) == 0 ||
         (leaf.size() > 5 && leaf.compare(leaf.size() - 5, 5, "_bias") == 0);
}

DecaySplit split_by_decay(const nn::Module& module, const NoDecayRule& no_decay) {
  DecaySplit split;
  std::set<const TensorImpl*> seen;
  for (const auto& [name, p] : module.named_parameters()) {
    if (!p.requires_grad() || !seen.insert(p.impl()).second) continue;
    (no_decay(name, p) ? split.no_decay : split.decay).emplace_back(name, p);
  }
  return split;
}

}  // namespace chorus::optim
