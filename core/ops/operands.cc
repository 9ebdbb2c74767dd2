#include "core/ops/operands.h"

namespace chorus::ops_internal {

Tensor cast_raw(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = Tensor::empty(t.shape(), dtype, t.device());
  out.copy_(t);
  return out;
}

Tensor broadcast_raw(const Tensor& t, const Shape& shape, DType dtype) {
  Tensor c = cast_raw(t, dtype);
  if (c.shape() == shape) return c;
  const size_t n = shape.size();
  const size_t k = c.shape().size();
  CHORUS_CHECK(k <= n, "cannot broadcast ", shape_str(c.shape()), " to ", shape_str(shape));
  Shape strides(n, 0);
  for (size_t i = 0; i < k; ++i) {
    const int64_t src = c.shape()[i];
    const int64_t dst = shape[n - k + i];
    CHORUS_CHECK(src == dst || src == 1, "cannot broadcast ", shape_str(c.shape()), " to ",
                 shape_str(shape));
    strides[n - k + i] = src == 1 ? 0 : c.strides()[i];
  }
  return c.as_strided(shape, strides, c.offset());
}

Tensor contiguous_raw(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype && t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape(), dtype, t.device());
  out.copy_(t);
  return out;
}

void require_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (first == nullptr) {
      first = t;
      continue;
    }
    CHORUS_CHECK(t->device() == first->device(), op,
                 ": operands are on different devices: ", first->ToString(), " and ",
                 t->ToString());
  }
}

Device common_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  Device device = Device::cpu();
  for (const Tensor* t : tensors) {
    if (t->defined() && !t->device().is_cpu()) {
      device = t->device();
      break;
    }
  }
  for (const Tensor* t : tensors) {
    if (!t->defined() || t->device() == device) continue;
    CHORUS_CHECK(t->device().is_cpu() && t->dim() == 0, op,
                 ": operands are on different devices: ", t->ToString(), " and a tensor on ",
                 device.ToString(), " (only 0-dim host tensors may be mixed in)");
  }
  return device;
}

Tensor to_device_raw(const Tensor& t, Device device) {
  if (!t.defined() || t.device() == device) return t;
  Tensor out = Tensor::empty(t.shape(), t.dtype(), device);
  out.copy_(t);
  return out;
}

Tensor host_raw(const Tensor& t) {
  if (t.device().is_cpu() && t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape(), t.dtype(), Device::cpu());
  out.copy_(t);
  return out;
}

DType kernel_dtype(DType dtype) {
  return (dtype == DType::kF64 || !is_floating(dtype)) ? DType::kF64 : DType::kF32;
}

}  // namespace chorus::ops_internal
