// nn::Module: the base of every layer and model, shaped like PyTorch's nn.Module so
// researchers find what they know: named parameters and buffers, children, state_dict to and
// from safetensors (names like "blocks.3.moe.experts.w1"), train()/eval(), parameter
// counting, to(device/dtype).
//
// A module registers its tensors and children in its constructor:
//
//   class Linear : public Module {
//    public:
//     Linear(int64_t in, int64_t out) : Module("Linear") {
//       weight = register_parameter("weight", init...);
//       bias = register_parameter("bias", Tensor::zeros({out}));
//     }
//     Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }
//     Tensor weight, bias;
//   };
//
// Members like `weight` are Tensor handles that alias the registered tensor, so in-place
// changes made through the module (to(), load_state_dict(), optimizer steps) are visible
// through them. forward() is not virtual: each module defines the signature it needs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/tensor/tensor.h"

namespace chorus::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& type_name() const { return type_name_; }

  // ---- Introspection. Names are dotted paths from this module ("blocks.0.attn.q.weight"),
  // in registration order.
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module (name "") and every descendant.
  std::vector<std::pair<std::string, const Module*>> named_modules() const;
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- State. state_dict holds parameters and buffers (sharing data, not copies).
  NamedTensors state_dict() const;
  // Copies values into the registered tensors (converting dtype if needed). With `strict`, a
  // missing or unexpected name is an error; a shape mismatch always is. All problems are
  // reported at once.
  absl::Status load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  absl::Status save(const std::string& path,
                    const std::map<std::string, std::string>& metadata = {}) const;
  absl::Status load(const std::string& path, bool strict = true);

  // ---- Modes and placement.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Converts every floating parameter and buffer in place (handles stay valid).
  void to(DType dtype);
  void to(Device device);
  void zero_grad();  // drops every parameter's .grad()
  // Freezes or unfreezes all parameters of this module (e.g. a stage trains only the head).
  void requires_grad(bool on);

  // A tree view of the module: types, names and parameter shapes.
  std::string ToString() const;

 protected:
  // Registration, for constructors. Names must be unique within this module and contain no
  // dots. Returns the registered tensor (the same handle).
  Tensor register_parameter(const std::string& name, Tensor value, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool params, bool buffers, bool recurse,
               NamedTensors& out) const;

  std::string type_name_;
  bool training_ = true;
  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace chorus::nn
