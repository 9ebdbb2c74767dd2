// Tensor's autograd methods (declared in core/tensor/tensor.h).
#include "core/autograd/node.h"

namespace chorus {
namespace {

autograd::AutogradMeta& meta_of(const Tensor& t) {
  TensorImpl* impl = t.impl();
  if (!impl->autograd) impl->autograd = std::make_unique<autograd::AutogradMeta>();
  return *impl->autograd;
}

const autograd::AutogradMeta* meta_if(const Tensor& t) { return t.impl()->autograd.get(); }

}  // namespace

bool Tensor::requires_grad() const {
  const auto* m = meta_if(*this);
  return m != nullptr && m->requires_grad;
}

const Tensor& Tensor::set_requires_grad(bool requires_grad) const {
  CHORUS_CHECK(is_leaf(), "set_requires_grad on a non-leaf tensor; use detach() first");
  CHORUS_CHECK(!requires_grad || is_floating(dtype()),
               "only floating tensors can require grad, got ", dtype_name(dtype()));
  meta_of(*this).requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const {
  const auto* m = meta_if(*this);
  return m ? m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  CHORUS_CHECK(!grad.defined() || grad.shape() == shape(), "set_grad: gradient ",
               shape_str(grad.shape()), " for tensor ", shape_str(shape()));
  meta_of(*this).grad = grad;
}

bool Tensor::is_leaf() const {
  const auto* m = meta_if(*this);
  return m == nullptr || m->grad_fn == nullptr;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  const auto* m = meta_if(*this);
  return m ? m->grad_fn : nullptr;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::run_backward({*this}, {gradient}, retain_graph);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->shape = shape();
  impl->strides = strides();
  impl->offset = offset();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

void Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  CHORUS_CHECK(requires_grad(), "register_hook on a tensor that does not require grad");
  autograd::AutogradMeta& m = meta_of(*this);
  if (m.grad_fn) {
    m.grad_fn->output_hooks[m.output_nr].push_back(std::move(hook));
  } else {
    m.hooks.push_back(std::move(hook));
  }
}

void Tensor::retain_grad() const {
  CHORUS_CHECK(requires_grad(), "retain_grad on a tensor that does not require grad");
  autograd::AutogradMeta& m = meta_of(*this);
  if (m.grad_fn) m.grad_fn->output_retains_grad[m.output_nr] = true;
}

}  // namespace chorus
