// Per-tensor autograd state. It lives in the tensor layer only as data: the graph nodes
// (core/autograd/node.h) and the engine that walks them are defined above the ops layer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::autograd {

class Node;

using TensorHook = std::function<Tensor(const Tensor& grad)>;

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;                           // accumulated gradient (leaves, or retained non-leaves)
  std::shared_ptr<Node> grad_fn;         // producing op; null for leaves
  uint32_t output_nr = 0;                // which output of grad_fn this tensor is
  std::weak_ptr<Node> grad_accumulator;  // leaves: the node that adds into `grad`
  std::vector<TensorHook> hooks;         // leaves: run on the incoming gradient, in order
};

}  // namespace chorus::autograd
