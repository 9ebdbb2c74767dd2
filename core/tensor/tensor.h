// Tensor: a strided view over reference-counted Storage.
//
// A Tensor is a cheap handle (one shared_ptr); copying a Tensor aliases the same data, like
// torch.Tensor. A default-constructed Tensor is "undefined" (defined() == false); autograd
// uses undefined tensors for "no gradient".
//
// Layout: element (i0, i1, ...) lives at storage->data() + (offset + Σ ik*strides[k]) * itemsize.
// Strides may be 0 (broadcast/expanded dims) or arbitrary (permuted, sliced views).
//
// Layering note: this header declares the view and copy methods (reshape, permute, slice,
// contiguous, to, ...), but they are *defined* in core/ops (views.cc, copy.cc) because they are
// differentiable and record autograd nodes. as_strided() is the raw, non-differentiable
// primitive they are built on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/device.h"
#include "core/tensor/dtype.h"
#include "core/tensor/error.h"
#include "core/tensor/shape.h"
#include "core/tensor/storage.h"

namespace chorus {

namespace autograd {
class Node;
struct AutogradMeta;
}  // namespace autograd

class Tensor;

struct TensorImpl {
  TensorImpl();
  ~TensorImpl();
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::kF32;
  std::unique_ptr<autograd::AutogradMeta> autograd;  // null until autograd touches the tensor
};

// C++ element type for a DType, for typed data access (data<T>()).
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::kF32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::kF64;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::kI8;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::kU8;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::kI32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::kI64;
}
template <>
constexpr DType dtype_of<bool>() {
  return DType::kBool;
}

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- Factories. Memory is uninitialised for empty(), filled for the others.
  static Tensor empty(const Shape& shape, DType dtype = DType::kF32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::kF32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::kF32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::kF32,
                     Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::kF32);  // 0-dim
  // [start, end) with step; dtype i64 by default.
  static Tensor arange(int64_t start, int64_t end, int64_t step = 1, DType dtype = DType::kI64);
  // Copies `values` into a new CPU tensor of `shape` (numel must match).
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // Same, converting to `dtype` (e.g. float values stored as bf16).
  static Tensor from_doubles(const std::vector<double>& values, const Shape& shape, DType dtype);

  // ---- Metadata.
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl()->shape; }
  const Shape& strides() const { return impl()->strides; }
  int64_t size(int64_t dim) const;  // dim may be negative
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(impl()->shape.size()); }
  int64_t numel() const { return shape_numel(impl()->shape); }
  int64_t offset() const { return impl()->offset; }
  DType dtype() const { return impl()->dtype; }
  Device device() const { return impl()->storage->device(); }
  size_t itemsize() const { return dtype_size(dtype()); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * itemsize(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl()->storage; }
  TensorImpl* impl() const;
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  std::weak_ptr<TensorImpl> impl_weak() const { return impl_; }
  std::string ToString() const;  // "Tensor(f32, cpu, [2, 3])"

  // Pointer to the first element (offset applied).
  void* raw_data() const;
  // Typed pointer for host code; throws if T does not match dtype() or if the tensor is not on
  // the CPU (host code reading device memory would crash on a GPU: copy with to(Device::cpu())).
  template <class T>
  T* data() const {
    CHORUS_CHECK(device().is_cpu(), "data<", dtype_name(dtype_of<T>()), ">() on ", ToString(),
                 ": host code cannot read device memory; copy it with to(Device::cpu())");
    return device_data<T>();
  }
  // Typed pointer on any device, for code that hands it to device kernels.
  template <class T>
  T* device_data() const {
    CHORUS_CHECK(dtype() == dtype_of<T>(), "data<", dtype_name(dtype_of<T>()),
                 ">() on a tensor of dtype ", dtype_name(dtype()));
    return static_cast<T*>(raw_data());
  }

  // ---- Element access (slow; for tests, tools and scalars).
  double item() const;  // numel() must be 1
  template <class T>
  std::vector<T> to_vector() const;  // row-major values converted to T

  // ---- Raw, non-differentiable primitives.
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;
  // Copies src into this tensor elementwise (shapes equal; src may be expanded), converting
  // dtype. Not recorded by autograd.
  void copy_(const Tensor& src) const;
  // Makes this tensor (and every handle sharing it) point at `other`'s data, shape and dtype,
  // keeping its own autograd state: how nn::Module::to() converts parameters in place.
  void set_data(const Tensor& other) const;
  void fill_(double value) const;
  void zero_() const { fill_(0.0); }

  // ---- Views and copies (differentiable; defined in core/ops).
  Tensor view(const Shape& shape) const;     // needs compatible strides; one -1 allowed
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // removes `dim`
  Tensor expand(const Shape& shape) const;          // -1 keeps a size
  Tensor squeeze(int64_t dim) const;
  Tensor squeeze() const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor contiguous() const;  // this tensor itself when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // ---- Autograd (defined in core/autograd).
  bool requires_grad() const;
  // Marks a leaf as needing gradients. Returns *this for chaining.
  const Tensor& set_requires_grad(bool requires_grad = true) const;
  Tensor grad() const;  // undefined when no gradient was accumulated
  void set_grad(const Tensor& grad) const;
  bool is_leaf() const;
  std::shared_ptr<autograd::Node> grad_fn() const;
  // Backpropagates from this tensor. `gradient` may be omitted for a one-element tensor.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // same data, cut from the graph
  // Runs `hook(grad)` when this tensor's gradient is computed; the hook's result (if defined)
  // replaces the gradient.
  void register_hook(std::function<Tensor(const Tensor&)> hook) const;
  void retain_grad() const;  // keep .grad() on a non-leaf

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace chorus
