#include "core/ops/cuda/tensor_operands.h"

#include <vector>

namespace chorus::cuda {

Geometry make_geometry(const Shape& shape, std::initializer_list<const Tensor*> tensors,
                       Operand* operands) {
  const size_t n = tensors.size();
  std::vector<int64_t> sizes;
  std::vector<std::vector<int64_t>> strides(n);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const bool merge = !sizes.empty() && [&] {
      size_t k = 0;
      for (const Tensor* t : tensors) {
        if (strides[k].back() != t->strides()[d] * shape[d]) return false;
        ++k;
      }
      return true;
    }();
    size_t k = 0;
    if (merge) {
      sizes.back() *= shape[d];
      for (const Tensor* t : tensors) strides[k++].back() = t->strides()[d];
    } else {
      sizes.push_back(shape[d]);
      for (const Tensor* t : tensors) strides[k++].push_back(t->strides()[d]);
    }
  }
  CHORUS_CHECK(sizes.size() <= static_cast<size_t>(kMaxDims), "CUDA kernels take at most ",
               kMaxDims, " non-contiguous dims, got shape ", shape_str(shape));
  Geometry geo;
  geo.ndim = static_cast<int>(sizes.size());
  geo.numel = shape_numel(shape);
  for (int d = 0; d < geo.ndim; ++d) geo.sizes[d] = sizes[d];
  size_t k = 0;
  for (const Tensor* t : tensors) {
    Operand& op = operands[k];
    op.data = t->raw_data();
    bool contiguous = true;
    int64_t expect = 1;
    for (int d = geo.ndim - 1; d >= 0; --d) {
      op.strides[d] = strides[k][d];
      contiguous = contiguous && strides[k][d] == expect;
      expect *= geo.sizes[d];
    }
    op.contiguous = contiguous;
    ++k;
  }
  return geo;
}

int device_index(const Tensor& t, const char* op) {
  check_device(t.device(), op);
  return t.device().index();
}

std::string describe(const char* op, std::initializer_list<const Tensor*> tensors) {
  std::string s = std::string(op) + "(";
  bool first = true;
  for (const Tensor* t : tensors) {
    if (!first) s += ", ";
    first = false;
    s += t->defined() ? std::string(dtype_name(t->dtype())) + shape_str(t->shape()) : "none";
  }
  return s + ")";
}

}  // namespace chorus::cuda
