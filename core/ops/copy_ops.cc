// Differentiable copies: Tensor::contiguous, clone, to(dtype), to(device).
#include "core/autograd/node.h"

namespace chorus {

using autograd::Grads;

namespace {
Tensor copy_as(const Tensor& x, DType dtype, Device device, const char* name) {
  Tensor out = Tensor::empty(x.shape(), dtype, device);
  out.copy_(x);
  autograd::record(name, {x}, {out}, [dt = x.dtype(), dev = x.device()](const Grads& g) {
    return Grads{g[0].to(dt).to(dev)};
  });
  return out;
}
}  // namespace

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return copy_as(*this, dtype(), device(), "contiguous");
}

Tensor Tensor::clone() const { return copy_as(*this, dtype(), device(), "clone"); }

Tensor Tensor::to(DType d) const {
  if (d == dtype()) return *this;
  return copy_as(*this, d, device(), "to_dtype");
}

Tensor Tensor::to(Device dev) const {
  if (dev == device()) return *this;
  return copy_as(*this, dtype(), dev, "to_device");
}

}  // namespace chorus
