#include "core/nn/recompute.h"

#include "core/autograd/node.h"

namespace chorus::nn {

std::vector<Tensor> recompute(RecomputeFn fn, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& params) {
  std::vector<Tensor> node_inputs = inputs;
  node_inputs.insert(node_inputs.end(), params.begin(), params.end());
  if (!autograd::needs_grad(node_inputs)) return fn(inputs, false);

  std::vector<Tensor> saved;  // detached: the closure must not own the graph that feeds it
  std::vector<bool> input_requires_grad;
  for (const Tensor& t : inputs) {
    saved.push_back(t.defined() ? t.detach() : Tensor());
    input_requires_grad.push_back(t.defined() && t.requires_grad());
  }
  std::vector<Tensor> outputs;
  {
    autograd::NoGradGuard no_grad;
    outputs = fn(saved, false);
  }
  // Only defined floating outputs go through the node; record() needs at least one.
  std::vector<size_t> recorded;
  std::vector<Tensor> node_outputs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].defined() && is_floating(outputs[i].dtype())) {
      // A fresh handle, so that an output aliasing an input (fn may return x itself) does not
      // turn the caller's input into this node's output.
      outputs[i] = outputs[i].detach();
      recorded.push_back(i);
      node_outputs.push_back(outputs[i]);
    }
  }
  if (node_outputs.empty()) return outputs;

  const size_t n_inputs = inputs.size(), n_params = params.size();
  autograd::record(
      "recompute", node_inputs, node_outputs,
      [fn = std::move(fn), saved, input_requires_grad, recorded, n_inputs,
       n_params](const autograd::Grads& grads) {
        std::vector<Tensor> replay_inputs;
        for (size_t i = 0; i < saved.size(); ++i) {
          Tensor t = saved[i].defined() ? saved[i].detach() : Tensor();
          if (input_requires_grad[i]) t.set_requires_grad(true);
          replay_inputs.push_back(t);
        }
        std::vector<Tensor> replayed;
        {
          autograd::EnableGradGuard enable;
          replayed = fn(replay_inputs, true);
        }
        std::vector<Tensor> roots, root_grads;
        for (size_t k = 0; k < recorded.size(); ++k) {
          const Tensor& out = replayed.at(recorded[k]);
          CHORUS_CHECK(out.defined() && out.shape() == grads[k].shape(),
                       "recompute: the replay's output ", recorded[k],
                       " differs in shape from the first run's; the segment is not deterministic");
          if (out.requires_grad() && grads[k].defined()) {
            roots.push_back(out);
            root_grads.push_back(grads[k]);
          }
        }
        if (!roots.empty()) autograd::run_backward(roots, root_grads, /*retain_graph=*/false);
        autograd::Grads result;
        for (size_t i = 0; i < n_inputs; ++i) {
          result.push_back(input_requires_grad[i] ? replay_inputs[i].grad() : Tensor());
        }
        result.resize(n_inputs + n_params);  // parameters got theirs through .grad()
        return result;
      });
  return outputs;
}

}  // namespace chorus::nn
