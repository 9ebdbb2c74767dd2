// The backward engine: reverse topological walk over the recorded graph (Kahn's algorithm),
// summing gradients that reach a node along several paths before running it.
#include <algorithm>
#include <deque>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "core/autograd/node.h"
#include "core/ops/elementwise.h"

namespace chorus::autograd {
namespace {

thread_local bool t_grad_enabled = true;

class FunctionNode final : public Node {
 public:
  FunctionNode(const char* name, BackwardFn fn) : name_(name), fn_(std::move(fn)) {}
  Grads apply(const Grads& grad_outputs) override {
    CHORUS_CHECK(fn_ != nullptr, "backward through ", name_,
                 " a second time: its saved tensors were freed; pass retain_graph=true to the "
                 "first backward()");
    return fn_(grad_outputs);
  }
  void release() override { fn_ = nullptr; }
  std::string name() const override { return name_; }

 private:
  const char* name_;
  BackwardFn fn_;
};

// Adds incoming gradients into a leaf's .grad().
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  Grads apply(const Grads& grad_outputs) override {
    std::shared_ptr<TensorImpl> impl = leaf_.lock();
    if (!impl) return {};
    Tensor g = grad_outputs[0];
    for (auto& hook : impl->autograd->hooks) {
      Tensor replaced = hook(g);
      if (replaced.defined()) g = replaced;
    }
    Tensor& grad = impl->autograd->grad;
    // The stored gradient is always a private copy: the same tensor may flow to several leaves
    // and optimizers update gradients in place.
    grad = grad.defined() ? add(grad, g) : g.clone();
    return {};
  }
  std::string name() const override { return "AccumulateGrad"; }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

AutogradMeta& meta_of(const Tensor& t) {
  TensorImpl* impl = t.impl();
  if (!impl->autograd) impl->autograd = std::make_unique<AutogradMeta>();
  return *impl->autograd;
}

}  // namespace

bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool enabled) { t_grad_enabled = enabled; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  AutogradMeta& meta = meta_of(leaf);
  std::shared_ptr<Node> acc = meta.grad_accumulator.lock();
  if (!acc) {
    // The TensorImpl is owned by shared_ptr inside Tensor; recover a weak reference to it.
    acc = std::make_shared<AccumulateGrad>(leaf.impl_weak());
    acc->output_shapes = {leaf.shape()};
    acc->output_dtypes = {leaf.dtype()};
    acc->output_devices = {leaf.device()};
    acc->output_hooks.resize(1);
    acc->output_retains_grad = {false};
    acc->outputs = {leaf.impl_weak()};
    meta.grad_accumulator = acc;
  }
  return acc;
}

Edge edge_for(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  AutogradMeta& meta = meta_of(t);
  if (meta.grad_fn) return {meta.grad_fn, meta.output_nr};
  return {grad_accumulator(t), 0};
}

void record(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn backward) {
  if (!needs_grad(inputs)) return;
  auto node = std::make_shared<FunctionNode>(name, std::move(backward));
  node->next_edges.reserve(inputs.size());
  for (const Tensor& in : inputs) node->next_edges.push_back(edge_for(in));
  node->output_hooks.resize(outputs.size());
  node->output_retains_grad.assign(outputs.size(), false);
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& out = outputs[k];
    node->output_shapes.push_back(out.shape());
    node->output_dtypes.push_back(out.dtype());
    node->output_devices.push_back(out.device());
    node->outputs.push_back(out.impl_weak());
    // Integer and bool outputs (indices, casts to int) are never differentiable, as in
    // PyTorch: they stay leaves that do not require grad. The node still lists the slot, so
    // the engine zero-fills it if a backward ever runs.
    if (!is_floating(out.dtype())) continue;
    AutogradMeta& meta = meta_of(out);
    meta.requires_grad = true;
    meta.grad_fn = node;
    meta.output_nr = static_cast<uint32_t>(k);
  }
}

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                  bool retain_graph) {
  NoGradGuard no_grad;
  // 1. Discover the graph and count, for each node, how many edges lead into it.
  std::unordered_map<Node*, int> dependencies;
  std::unordered_map<Node*, Grads> buffers;
  std::vector<std::shared_ptr<Node>> stack;
  std::vector<std::shared_ptr<Node>> keep_alive;
  std::vector<Edge> root_edges;
  for (const Tensor& r : roots) {
    CHORUS_CHECK(r.requires_grad(), "backward() on ", r.ToString(),
                 " which does not require grad and has no grad_fn");
    root_edges.push_back(edge_for(r));
  }
  for (const Edge& e : root_edges) {
    if (!dependencies.count(e.node.get())) {
      dependencies[e.node.get()] = 0;
      stack.push_back(e.node);
    }
  }
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    keep_alive.push_back(n);
    for (const Edge& e : n->next_edges) {
      if (!e.node) continue;
      auto [it, inserted] = dependencies.try_emplace(e.node.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(e.node);
    }
  }
  // 2. Seed the roots.
  auto accumulate = [&](const Edge& e, const Tensor& g) {
    Grads& buf = buffers[e.node.get()];
    const size_t outputs = std::max<size_t>(1, e.node->output_shapes.size());
    if (buf.size() < outputs) buf.resize(outputs);
    Tensor grad = g;
    if (e.input_nr < e.node->output_dtypes.size() &&
        grad.dtype() != e.node->output_dtypes[e.input_nr]) {
      grad = grad.to(e.node->output_dtypes[e.input_nr]);
    }
    Tensor& slot = buf[e.input_nr];
    slot = slot.defined() ? add(slot, grad) : grad;
  };
  for (size_t i = 0; i < roots.size(); ++i) {
    Tensor g = i < grads.size() && grads[i].defined() ? grads[i] : Tensor();
    if (!g.defined()) {
      CHORUS_CHECK(roots[i].numel() == 1,
                   "backward() without a gradient needs a one-element "
                   "tensor, got ",
                   roots[i].ToString());
      g = Tensor::ones(roots[i].shape(), roots[i].dtype(), roots[i].device());
    }
    CHORUS_CHECK(g.shape() == roots[i].shape(), "backward(): gradient ", shape_str(g.shape()),
                 " does not match tensor ", shape_str(roots[i].shape()));
    accumulate(root_edges[i], g);
  }
  // 3. Run nodes whose every incoming gradient has arrived.
  std::deque<Node*> ready;
  for (const Edge& e : root_edges) {
    if (dependencies[e.node.get()] == 0 &&
        std::find(ready.begin(), ready.end(), e.node.get()) == ready.end()) {
      ready.push_back(e.node.get());
    }
  }
  while (!ready.empty()) {
    Node* n = ready.front();
    ready.pop_front();
    if (!buffers.count(n)) {
      // No gradient reached this node: nothing to run, but its inputs stop waiting for it.
      for (const Edge& e : n->next_edges) {
        if (e.node && --dependencies[e.node.get()] == 0) ready.push_back(e.node.get());
      }
      continue;
    }
    Grads in = std::move(buffers[n]);
    buffers.erase(n);
    const size_t outputs = std::max<size_t>(1, n->output_shapes.size());
    in.resize(outputs);
    for (size_t k = 0; k < n->output_shapes.size(); ++k) {
      if (!in[k].defined()) {
        in[k] = Tensor::zeros(n->output_shapes[k], n->output_dtypes[k], n->output_devices[k]);
      }
      for (auto& hook : n->output_hooks[k]) {
        Tensor replaced = hook(in[k]);
        if (replaced.defined()) in[k] = replaced;
      }
      if (n->output_retains_grad[k]) {
        if (auto impl = n->outputs[k].lock()) {
          Tensor& slot = impl->autograd->grad;
          slot = slot.defined() ? add(slot, in[k]) : in[k].clone();
        }
      }
    }
    Grads out = n->apply(in);
    if (!retain_graph) n->release();
    if (dynamic_cast<AccumulateGrad*>(n) != nullptr) continue;
    if (out.empty() && n->next_edges.empty()) continue;
    CHORUS_CHECK(out.size() == n->next_edges.size(), "backward of ", n->name(), " returned ",
                 out.size(), " gradients for ", n->next_edges.size(), " inputs");
    for (size_t i = 0; i < out.size(); ++i) {
      const Edge& e = n->next_edges[i];
      if (!e.node) continue;
      if (out[i].defined()) {
        if (e.input_nr < e.node->output_shapes.size()) {
          CHORUS_CHECK(out[i].shape() == e.node->output_shapes[e.input_nr], "backward of ",
                       n->name(), ": gradient for input ", i, " has shape ",
                       shape_str(out[i].shape()), ", expected ",
                       shape_str(e.node->output_shapes[e.input_nr]));
        }
        accumulate(e, out[i]);
      }
      if (--dependencies[e.node.get()] == 0) ready.push_back(e.node.get());
    }
  }
}

}  // namespace chorus::autograd
