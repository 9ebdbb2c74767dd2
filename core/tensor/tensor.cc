#include "core/tensor/tensor.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/tensor/allocator.h"
#include "core/tensor/autograd_meta.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus {

TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;

namespace {

std::shared_ptr<TensorImpl> make_impl(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) CHORUS_CHECK(s >= 0, "negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return impl;
}

}  // namespace

TensorImpl* Tensor::impl() const {
  CHORUS_CHECK(impl_ != nullptr, "operation on an undefined tensor");
  return impl_.get();
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  return Tensor(make_impl(shape, dtype, device));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(0.0);
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::arange(int64_t start, int64_t end, int64_t step, DType dtype) {
  CHORUS_CHECK(step != 0, "arange step must be non-zero");
  int64_t n = 0;
  if ((step > 0 && end > start) || (step < 0 && end < start)) {
    n = (end - start + step + (step > 0 ? -1 : 1)) / step;
  }
  Tensor t = empty({n}, dtype);
  void* p = t.raw_data();
  for (int64_t i = 0; i < n; ++i)
    store_from_double(p, i, dtype, static_cast<double>(start + i * step));
  return t;
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  CHORUS_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
               "from_vector: ", values.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>());
  if constexpr (std::is_same_v<T, bool>) {
    auto* p = static_cast<uint8_t*>(t.raw_data());
    for (size_t i = 0; i < values.size(); ++i) p[i] = values[i] ? 1 : 0;
  } else {
    if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  }
  return t;
}

template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<int8_t>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<bool>&, const Shape&);

Tensor Tensor::from_doubles(const std::vector<double>& values, const Shape& shape, DType dtype) {
  CHORUS_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
               "from_doubles: ", values.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, dtype);
  void* p = t.raw_data();
  for (size_t i = 0; i < values.size(); ++i)
    store_from_double(p, static_cast<int64_t>(i), dtype, values[i]);
  return t;
}

// wrap_dim lets scalars name dim 0 (for reductions), but a scalar has no size to read.
int64_t Tensor::size(int64_t d) const {
  CHORUS_CHECK(dim() > 0, "size(", d, ") of a 0-dim tensor");
  return shape()[wrap_dim(d, dim())];
}
int64_t Tensor::stride(int64_t d) const {
  CHORUS_CHECK(dim() > 0, "stride(", d, ") of a 0-dim tensor");
  return strides()[wrap_dim(d, dim())];
}

bool Tensor::is_contiguous() const {
  const Shape& sh = shape();
  const Shape& st = strides();
  if (numel() == 0) return true;  // no element to misplace (as in PyTorch)
  int64_t expected = 1;
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

std::string Tensor::ToString() const {
  if (!defined()) return "Tensor(undefined)";
  return absl::StrCat("Tensor(", dtype_name(dtype()), ", ", device().ToString(), ", ",
                      shape_str(shape()), ")");
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl()->storage->data()) + offset() * static_cast<int64_t>(itemsize());
}

double Tensor::item() const {
  CHORUS_CHECK(numel() == 1, "item() on ", ToString(), ": needs exactly one element");
  Tensor c = device().is_cpu() ? *this : to(Device::cpu());
  return load_as_double(c.raw_data(), 0, c.dtype());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor src = device().is_cpu() ? *this : to(Device::cpu());
  if (dtype_of<T>() == dtype()) {
    // Same type: copy the elements as they are (i64 beyond 2^53 would not survive a double).
    Tensor c = Tensor::empty(shape(), dtype());
    c.copy_(src);
    const T* p = static_cast<const T*>(c.raw_data());
    return std::vector<T>(p, p + c.numel());
  }
  Tensor c = Tensor::empty(shape(), DType::kF64);
  c.copy_(src);
  const double* p = c.data<double>();
  std::vector<T> out(static_cast<size_t>(c.numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(p[i]);
  return out;
}

template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;

Tensor Tensor::as_strided(const Shape& new_shape, const Shape& new_strides,
                          int64_t new_offset) const {
  CHORUS_CHECK(new_shape.size() == new_strides.size(), "as_strided: shape ", shape_str(new_shape),
               " and strides ", shape_str(new_strides), " differ in length");
  // Bounds check: the furthest element must lie inside the storage.
  int64_t lo = new_offset, hi = new_offset;
  bool empty_view = false;
  for (size_t i = 0; i < new_shape.size(); ++i) {
    if (new_shape[i] == 0) empty_view = true;
    int64_t span = (new_shape[i] - 1) * new_strides[i];
    if (span > 0)
      hi += span;
    else
      lo += span;
  }
  const int64_t capacity = static_cast<int64_t>(storage()->nbytes() / itemsize());
  CHORUS_CHECK(empty_view || (lo >= 0 && hi < capacity), "as_strided: view ", shape_str(new_shape),
               " strides ", shape_str(new_strides), " offset ", new_offset, " exceeds storage of ",
               capacity, " elements");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->shape = new_shape;
  impl->strides = new_strides;
  impl->offset = new_offset;
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

void Tensor::set_data(const Tensor& other) const {
  TensorImpl* me = impl();
  const TensorImpl* src = other.impl();
  me->storage = src->storage;
  me->shape = src->shape;
  me->strides = src->strides;
  me->offset = src->offset;
  me->dtype = src->dtype;
}

}  // namespace chorus
