// The autograd graph.
//
// Every differentiable op that sees an input requiring grad records a Node: a backward
// function plus one Edge per input pointing to the Node that produced that input (or to the
// input leaf's gradient accumulator). Tensor::backward() walks the graph in reverse
// topological order (engine.cc).
//
// Writing a differentiable op (see core/ops/*.cc for many examples):
//
//   Tensor out = <compute forward>;
//   autograd::record("exp", {x}, {out}, [saved = out.detach()](const Grads& g) {
//     return Grads{mul(g[0], saved)};
//   });
//
// Rules: capture *detached* tensors in the closure (capturing `out` itself would make a
// reference cycle through out's grad_fn); return one gradient per input, each either
// undefined (no gradient) or of exactly that input's shape. Backward runs with grad mode off.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/autograd_meta.h"
#include "core/tensor/tensor.h"

namespace chorus::autograd {

using Grads = std::vector<Tensor>;
using BackwardFn = std::function<Grads(const Grads& grad_outputs)>;

struct Edge {
  std::shared_ptr<Node> node;  // null: the input needs no gradient
  uint32_t input_nr = 0;       // which output of `node` the input was
};

class Node {
 public:
  virtual ~Node() = default;
  // Maps gradients of this node's outputs to gradients of its inputs (one per next_edges).
  virtual Grads apply(const Grads& grad_outputs) = 0;
  // Drops saved tensors once backward has run (unless retain_graph).
  virtual void release() {}
  virtual std::string name() const = 0;

  std::vector<Edge> next_edges;
  std::vector<Shape> output_shapes;  // for zero-filling outputs that received no gradient
  std::vector<DType> output_dtypes;
  std::vector<Device> output_devices;
  // Hooks on non-leaf outputs: output_hooks[k] run on the gradient of output k.
  std::vector<std::vector<TensorHook>> output_hooks;
  std::vector<bool> output_retains_grad;
  std::vector<std::weak_ptr<TensorImpl>> outputs;  // to store retained grads
};

// Whether ops currently record graphs (thread-local; on by default).
bool grad_enabled();
void set_grad_enabled(bool enabled);

// RAII: disables recording in a scope (inference, optimizer updates, backward itself).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// RAII: enables recording in a scope whatever the caller's mode (a replay inside backward, a
// small model trained inside an evaluation that runs under NoGradGuard).
class EnableGradGuard {
 public:
  EnableGradGuard() : previous_(grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// True when grad mode is on and any of `inputs` requires grad: the op must record.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Records a node named `name` producing `outputs` from `inputs` when needs_grad(inputs);
// otherwise does nothing. Marks the outputs as requiring grad.
void record(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn backward);

// Runs backward from `roots` seeded with `grads` (engine.cc).
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                  bool retain_graph);

}  // namespace chorus::autograd
