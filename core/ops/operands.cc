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

void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (t->defined()) {
      CHORUS_CHECK(t->device().is_cpu(), op, ": no kernel for ", t->device().ToString(),
                   " in this build (input ", t->ToString(), ")");
    }
  }
}

DType kernel_dtype(DType dtype) {
  return (dtype == DType::kF64 || !is_floating(dtype)) ? DType::kF64 : DType::kF32;
}

}  // namespace chorus::ops_internal
