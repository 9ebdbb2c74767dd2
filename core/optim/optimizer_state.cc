// Optimizer::state_dict / load_state_dict: optimizer state as named tensors, the form
// checkpoints write to safetensors (bit-exact: tensors are copied, never converted).
#include <algorithm>

#include "absl/strings/str_join.h"
#include "core/optim/half_precision.h"
#include "core/optim/optimizer.h"

namespace chorus::optim {
namespace {

Tensor i64_scalar(int64_t v) { return Tensor::from_vector<int64_t>({v}, {}); }

// The dtype of a parameter's state: the master's (f32) for low-precision parameters, else the
// parameter's own.
DType state_dtype(DType param) { return param == DType::kF64 ? DType::kF64 : DType::kF32; }

std::string describe(const Tensor& t) { return dtype_name(t.dtype()) + shape_str(t.shape()); }

// A private copy of loaded state on its parameter's device (checkpoints load into host memory;
// the parameters may live on a GPU).
Tensor copy_to(const Tensor& t, Device device) {
  return t.device() == device ? t.clone() : t.to(device);
}

}  // namespace

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  out.emplace_back("step", i64_scalar(steps_));
  // Group order, then parameter order: the file layout follows the model.
  for (const NamedTensors& group : groups_) {
    for (const auto& [name, _] : group) {
      auto it = state_.find(name);
      if (it == state_.end()) continue;
      const ParamState& st = it->second;
      out.emplace_back("state." + name + ".step", i64_scalar(st.step));
      for (const auto& [buf, t] : st.buffers) out.emplace_back("state." + name + "." + buf, t);
      if (st.master.defined()) out.emplace_back("master." + name, st.master);
    }
  }
  return out;
}

absl::Status Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  std::vector<std::string> problems;
  auto param_of = [&](const std::string& name) -> const Tensor* {
    auto it = group_of_.find(name);
    if (it == group_of_.end()) return nullptr;
    for (const auto& [n, p] : groups_[it->second]) {
      if (n == name) return &p;
    }
    return nullptr;
  };
  auto check_i64_scalar = [&](const std::string& key, const Tensor& t) {
    if (t.dtype() != DType::kI64 || t.numel() != 1) {
      problems.push_back("'" + key + "' must be an i64 scalar, got " + describe(t));
      return false;
    }
    return true;
  };

  std::map<std::string, ParamState> loaded;
  int64_t steps = -1;
  for (const auto& [key, t] : state) {
    if (!t.defined()) {
      problems.push_back("'" + key + "' is undefined");
      continue;
    }
    if (key == "step") {
      if (check_i64_scalar(key, t)) steps = static_cast<int64_t>(t.item());
      continue;
    }
    if (key.rfind("master.", 0) == 0) {
      const std::string name = key.substr(7);
      const Tensor* p = param_of(name);
      if (!p || !is_half_precision(p->dtype())) {
        problems.push_back("unexpected '" + key + "' (no bf16/f16 parameter '" + name + "')");
      } else if (t.dtype() != DType::kF32 || t.shape() != p->shape()) {
        problems.push_back("'" + key + "' is " + describe(t) + ", expected f32" +
                           shape_str(p->shape()));
      } else {
        loaded[name].master = copy_to(t, p->device());
      }
      continue;
    }
    const size_t dot = key.rfind('.');
    if (key.rfind("state.", 0) != 0 || dot <= 6) {
      problems.push_back("unexpected '" + key + "'");
      continue;
    }
    const std::string name = key.substr(6, dot - 6), field = key.substr(dot + 1);
    const Tensor* p = param_of(name);
    if (!p) {
      problems.push_back("'" + key + "' names no parameter of this optimizer");
      continue;
    }
    if (field == "step") {
      if (check_i64_scalar(key, t)) loaded[name].step = static_cast<int64_t>(t.item());
      continue;
    }
    const auto expected = buffer_names(group_of_.at(name));
    if (std::find(expected.begin(), expected.end(), field) == expected.end()) {
      problems.push_back("unexpected '" + key +
                         "' (buffers here: " + absl::StrJoin(expected, ", ") + ")");
    } else if (t.dtype() != state_dtype(p->dtype()) || t.shape() != p->shape()) {
      problems.push_back("'" + key + "' is " + describe(t) + ", expected " +
                         dtype_name(state_dtype(p->dtype())) + shape_str(p->shape()));
    } else {
      loaded[name].buffers[field] = copy_to(t, p->device());
    }
  }

  if (steps < 0) problems.push_back("missing or invalid 'step'");
  for (const auto& [name, st] : loaded) {
    const Tensor& p = *param_of(name);
    if (st.step < 1) problems.push_back("missing or invalid 'state." + name + ".step'");
    for (const std::string& buf : buffer_names(group_of_.at(name))) {
      if (!st.buffers.count(buf)) problems.push_back("missing 'state." + name + "." + buf + "'");
    }
    if (is_half_precision(p.dtype()) && !st.master.defined()) {
      problems.push_back("missing 'master." + name + "'");
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError("optimizer load_state_dict: " +
                                      absl::StrJoin(problems, "; "));
  }
  state_ = std::move(loaded);
  steps_ = steps;
  return absl::OkStatus();
}

}  // namespace chorus::optim
