// Optimizer: the base of AdamW and SGD (adamw.h, sgd.h), shaped like torch.optim.Optimizer.
//
//   auto groups = optim::decay_groups(model, optim::AdamWOptions{.lr = 3e-4});
//   optim::AdamW opt(groups);
//   ... loss.backward(); opt.step(); opt.zero_grad();
//
// Parameters come in groups, each with its own hyper-parameters; every parameter has a unique
// name (the module path, "blocks.0.attn.q.weight"), which keys its state in state_dict().
//
// Mixed precision: a bf16 or f16 parameter gets an fp32 master copy (made from the parameter
// at its first update). Updates apply the (cast) gradient to the master and write the result,
// rounded to nearest even, back into the parameter; the state is fp32. f32 parameters are
// updated in place with f32 state, f64 parameters with f64 state. The same holds on every
// device, so CPU runs reproduce GPU numerics.
//
// Parameters whose .grad() is undefined are skipped by step(), their state untouched (like
// PyTorch); each parameter counts its own updates for bias correction.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/nn/module.h"
#include "core/tensor/tensor.h"

namespace chorus::optim {

using nn::NamedTensors;

// A list of named parameters and the options of the optimizer that updates them
// (AdamWOptions, SGDOptions).
template <class Options>
struct ParamGroup {
  NamedTensors params;
  Options options;
};

// What an optimizer keeps for one parameter; created at the parameter's first update.
struct ParamState {
  int64_t step = 0;                       // updates applied to this parameter
  std::map<std::string, Tensor> buffers;  // "exp_avg", "momentum_buffer", ...
  Tensor master;                          // fp32 master copy of a bf16/f16 parameter
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient. Not recorded by autograd.
  void step();
  // Drops every parameter's gradient (PyTorch's set_to_none=True): the next backward writes
  // fresh gradients instead of accumulating.
  void zero_grad();

  int64_t num_groups() const { return static_cast<int64_t>(groups_.size()); }
  const NamedTensors& params(int64_t group) const;
  double lr(int64_t group = 0) const;
  void set_lr(double lr, int64_t group);
  void set_lr(double lr);  // every group
  // Number of step() calls (saved in state_dict; schedules are functions of it).
  int64_t steps() const { return steps_; }
  // A parameter's state, or null before its first update.
  const ParamState* state(const std::string& name) const;

  // Named tensors for a checkpoint, sharing data with the live state (save them before the
  // next step(), or clone):
  //   "step"                      i64 scalar, steps()
  //   "state.<param>.step"        i64 scalar, the parameter's update count
  //   "state.<param>.<buffer>"    f32 (f64 for f64 params), e.g. exp_avg, exp_avg_sq
  //   "master.<param>"            f32 master copy of a bf16/f16 parameter
  // Hyper-parameters are not included: they come from the recipe, and the learning rate from
  // the schedule at steps().
  NamedTensors state_dict() const;
  // Replaces all state with copies of `state` (a state_dict of an optimizer of the same kind
  // over parameters of the same names and shapes). Everything is validated first and every
  // problem is reported at once; on error nothing changes.
  absl::Status load_state_dict(const std::map<std::string, Tensor>& state);

 protected:
  // Checks and stores the groups' parameters (unique names, distinct tensors, dtype f32, f64,
  // bf16 or f16) and learning rates. The base class owns the learning rates (schedules set
  // them); the derived class owns the other hyper-parameters.
  Optimizer(std::vector<NamedTensors> group_params, const std::vector<double>& group_lrs);

  // Updates one parameter: `target` is the parameter itself or its fp32 master; `model` is the
  // bf16/f16 parameter to write the result into (undefined when target is the parameter).
  // `state.step` already counts this update.
  virtual void update(int64_t group, const Tensor& target, const Tensor& grad, ParamState& state,
                      const Tensor& model) = 0;
  // The buffers update() keeps for a parameter of `group` (checked by load_state_dict).
  virtual std::vector<std::string> buffer_names(int64_t group) const = 0;

  // The buffer `name` of `state`, created as zeros shaped like `like` if missing (`*created`
  // tells which).
  static Tensor& buffer(ParamState& state, const std::string& name, const Tensor& like,
                        bool* created = nullptr);

 private:
  std::vector<NamedTensors> groups_;
  std::vector<double> lrs_;
  std::map<std::string, int64_t> group_of_;  // parameter name -> group index
  std::map<std::string, ParamState> state_;
  int64_t steps_ = 0;
};

// ---- Weight-decay groups.

// The default rule for parameters that get no weight decay: tensors of rank <= 1 (biases,
// norm weights and shifts, per-channel scales), and any parameter whose own name (after the
// last dot) is "bias", starts with "bias_" or ends with "_bias" (stacked expert biases
// [E, ff] are rank 2). Decaying these only pulls offsets and gains toward zero, which hurts.
bool default_no_decay(const std::string& name, const Tensor& param);

using NoDecayRule = std::function<bool(const std::string&, const Tensor&)>;

struct DecaySplit {
  NamedTensors decay;
  NamedTensors no_decay;
};

// Splits a module's trainable parameters (requires_grad) by `no_decay`, in registration
// order; a tensor registered under two names (tied weights) is kept once, under its first name.
DecaySplit split_by_decay(const nn::Module& module, const NoDecayRule& no_decay = default_no_decay);

// The usual two groups: {decayed parameters with `options`, the others with weight_decay 0}.
// Both groups are always present (possibly empty), so group 0 and group 1 mean the same thing
// for every model.
template <class Options>
std::vector<ParamGroup<Options>> decay_groups(const nn::Module& module, const Options& options,
                                              const NoDecayRule& no_decay = default_no_decay) {
  DecaySplit split = split_by_decay(module, no_decay);
  Options without = options;
  without.weight_decay = 0.0;
  return {{std::move(split.decay), options}, {std::move(split.no_decay), without}};
}

}  // namespace chorus::optim
