#include "core/nn/module.h"

#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/autograd/node.h"
#include "core/io/safetensors.h"

namespace chorus::nn {

void Module::check_new_name(const std::string& name) const {
  CHORUS_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name_,
               ": invalid member name '", name, "' (non-empty, no dots)");
  auto taken = [&](const auto& list) {
    for (const auto& [n, _] : list) {
      if (n == name) return true;
    }
    return false;
  };
  CHORUS_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), type_name_,
               ": member name '", name, "' registered twice");
}

Tensor Module::register_parameter(const std::string& name, Tensor value, bool requires_grad) {
  check_new_name(name);
  CHORUS_CHECK(value.defined(), type_name_, ": parameter '", name, "' is undefined");
  if (!value.is_leaf()) value = value.detach();
  if (requires_grad && is_floating(value.dtype())) value.set_requires_grad(true);
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name);
  CHORUS_CHECK(value.defined(), type_name_, ": buffer '", name, "' is undefined");
  buffers_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name);
  CHORUS_CHECK(module != nullptr, type_name_, ": child module '", name, "' is null");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool params, bool buffers, bool recurse,
                     NamedTensors& out) const {
  if (params) {
    for (const auto& [n, t] : parameters_) out.emplace_back(prefix + n, t);
  }
  if (buffers) {
    for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
  }
  if (!recurse) return;
  for (const auto& [n, child] : children_)
    child->collect(prefix + n + ".", params, buffers, true, out);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", true, false, recurse, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", false, true, recurse, out);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out = {{"", this}};
  for (const auto& [n, child] : children_) {
    for (auto& [sub, m] : child->named_modules())
      out.emplace_back(sub.empty() ? n : n + "." + sub, m);
  }
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const auto& [_, t] : named_parameters()) {
    if (!trainable_only || t.requires_grad()) n += t.numel();
  }
  return n;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, true, out);
  return out;
}

absl::Status Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  std::vector<std::string> problems;
  std::set<std::string> used;
  autograd::NoGradGuard no_grad;
  for (const auto& [name, t] : state_dict()) {
    auto it = state.find(name);
    if (it == state.end()) {
      if (strict) problems.push_back(absl::StrCat("missing '", name, "'"));
      continue;
    }
    used.insert(name);
    if (it->second.shape() != t.shape()) {
      problems.push_back(absl::StrCat("'", name, "' has shape ", shape_str(it->second.shape()),
                                      ", the model expects ", shape_str(t.shape())));
      continue;
    }
    t.copy_(it->second);
  }
  if (strict) {
    for (const auto& [name, _] : state) {
      if (!used.count(name)) problems.push_back(absl::StrCat("unexpected '", name, "'"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("load_state_dict into ", type_name_, ": ", absl::StrJoin(problems, "; ")));
}

absl::Status Module::save(const std::string& path,
                          const std::map<std::string, std::string>& metadata) const {
  return save_safetensors(path, state_dict(), metadata);
}

absl::Status Module::load(const std::string& path, bool strict) {
  auto file = SafetensorsFile::Open(path);
  if (!file.ok()) return file.status();
  auto all = file->load_all();
  if (!all.ok()) return all.status();
  absl::Status s = load_state_dict(*all, strict);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  return s;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, child] : children_) child->train(on);
}

namespace {

// Points a parameter or buffer at converted data in place. The gradient accumulator is
// dropped too: it records the dtype gradients are cast to, and a graph still alive from
// before (e.g. a clone() of the parameter) would otherwise keep the old one in use for new
// graphs, delivering gradients of the old dtype.
void replace_data(const Tensor& t, const Tensor& converted) {
  t.set_data(converted);
  if (t.grad().defined()) t.set_grad(Tensor());
  if (t.impl()->autograd) t.impl()->autograd->grad_accumulator.reset();
}

}  // namespace

void Module::to(DType dtype) {
  for (auto& [_, t] : state_dict()) {
    if (is_floating(t.dtype()) && t.dtype() != dtype) {
      autograd::NoGradGuard no_grad;
      replace_data(t, t.detach().to(dtype));
    }
  }
}

void Module::to(Device device) {
  for (auto& [_, t] : state_dict()) {
    if (t.device() != device) {
      autograd::NoGradGuard no_grad;
      replace_data(t, t.detach().to(device));
    }
  }
}

void Module::zero_grad() {
  for (auto& [_, t] : named_parameters()) t.set_grad(Tensor());
}

void Module::requires_grad(bool on) {
  for (auto& [_, t] : named_parameters()) {
    if (is_floating(t.dtype())) t.set_requires_grad(on);
  }
}

std::string Module::ToString() const {
  std::ostringstream out;
  for (const auto& [name, m] : named_modules()) {
    const int depth =
        name.empty() ? 0 : 1 + static_cast<int>(std::count(name.begin(), name.end(), '.'));
    out << std::string(2 * depth, ' ') << (name.empty() ? "" : name + ": ") << m->type_name();
    for (const auto& [pn, t] : m->named_parameters(false)) out << " " << pn << shape_str(t.shape());
    out << "\n";
  }
  return out.str();
}

}  // namespace chorus::nn
