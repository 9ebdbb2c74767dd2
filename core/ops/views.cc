// Differentiable views: Tensor::view, reshape, permute, transpose, slice, narrow, select,
// expand, squeeze, unsqueeze, flatten. Each returns a tensor sharing storage with its input.
#include <numeric>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace chorus {

using autograd::Grads;

namespace {

Shape infer_shape(const Shape& shape, int64_t numel) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      CHORUS_CHECK(infer < 0, "shape ", shape_str(shape), " has more than one -1");
      infer = static_cast<int64_t>(i);
    } else {
      CHORUS_CHECK(out[i] >= 0, "invalid size ", out[i], " in shape ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    CHORUS_CHECK(known != 0 && numel % known == 0, "cannot infer -1 in ", shape_str(shape), " for ",
                 numel, " elements");
    out[infer] = numel / known;
  }
  CHORUS_CHECK(shape_numel(out) == numel, "shape ", shape_str(shape), " is invalid for ", numel,
               " elements");
  return out;
}

// Records a view op whose backward maps the output gradient back to the input's shape.
Tensor record_view(const char* name, const Tensor& in, Tensor out,
                   std::function<Tensor(const Tensor&)> back) {
  autograd::record(name, {in}, {out},
                   [back = std::move(back)](const Grads& g) { return Grads{back(g[0])}; });
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& new_shape) const {
  const Shape shape_out = infer_shape(new_shape, numel());
  CHORUS_CHECK(is_contiguous() || shape_out == shape(), "view ", shape_str(shape_out), " of ",
               ToString(), ": the tensor is not contiguous; use reshape()");
  // A non-contiguous tensor may only be "viewed" as its own shape; it keeps its strides
  // (contiguous strides would read the wrong elements).
  Tensor out =
      as_strided(shape_out, is_contiguous() ? contiguous_strides(shape_out) : strides(), offset());
  return record_view("view", *this, out,
                     [in_shape = shape()](const Tensor& g) { return g.reshape(in_shape); });
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  if (is_contiguous()) return view(new_shape);
  return contiguous().view(new_shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  CHORUS_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: ", dims.size(),
               " dims for a tensor with ", dim());
  Shape shape_out(dims.size()), strides_out(dims.size());
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim());
    CHORUS_CHECK(inverse[d] < 0, "permute: dim ", dims[i], " repeated");
    inverse[d] = static_cast<int64_t>(i);
    shape_out[i] = shape()[d];
    strides_out[i] = strides()[d];
  }
  Tensor out = as_strided(shape_out, strides_out, offset());
  return record_view("permute", *this, out,
                     [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  if (dim() == 0) {  // wrap_dim accepts 0 / -1 for a scalar; transposing it is the identity
    wrap_dim(dim0, 0), wrap_dim(dim1, 0);
    return *this;
  }
  std::vector<int64_t> order(dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[wrap_dim(dim0, dim())], order[wrap_dim(dim1, dim())]);
  return permute(order);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  CHORUS_CHECK(dim() > 0, "slice: cannot slice a 0-dim tensor");
  d = wrap_dim(d, dim());
  CHORUS_CHECK(step > 0, "slice step must be positive, got ", step);
  const int64_t n = shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape_out = shape(), strides_out = strides();
  shape_out[d] = (end - start + step - 1) / step;
  strides_out[d] *= step;
  Tensor out = as_strided(shape_out, strides_out, offset() + start * strides()[d]);
  return record_view(
      "slice", *this, out,
      [in_shape = shape(), in_dtype = dtype(), d, start, end, step](const Tensor& g) {
        Tensor full = Tensor::zeros(in_shape, g.dtype(), g.device());
        full.slice(d, start, end, step).copy_(g);
        return full;
      });
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  CHORUS_CHECK(dim() > 0, "narrow: cannot narrow a 0-dim tensor");
  d = wrap_dim(d, dim());
  CHORUS_CHECK(start >= 0 && length >= 0 && start + length <= shape()[d], "narrow(", d, ", ", start,
               ", ", length, ") out of range for ", ToString());
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  CHORUS_CHECK(dim() > 0, "select: cannot select from a 0-dim tensor");
  d = wrap_dim(d, dim());
  const int64_t n = shape()[d];
  if (index < 0) index += n;
  CHORUS_CHECK(index >= 0 && index < n, "select: index ", index, " out of range for dim ", d,
               " of size ", n);
  return slice(d, index, index + 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& new_shape) const {
  const size_t n = new_shape.size();
  CHORUS_CHECK(n >= shape().size(), "expand: ", shape_str(new_shape), " has fewer dims than ",
               ToString());
  const size_t lead = n - shape().size();
  Shape shape_out(n), strides_out(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t want = new_shape[i];
    if (i < lead) {
      CHORUS_CHECK(want >= 0, "expand: size -1 not allowed for new leading dims");
      shape_out[i] = want;
      continue;
    }
    const int64_t have = shape()[i - lead];
    const int64_t size = want == -1 ? have : want;
    CHORUS_CHECK(have == size || have == 1, "expand ", ToString(), " to ", shape_str(new_shape),
                 ": dim ", i, " has size ", have);
    shape_out[i] = size;
    strides_out[i] = have == size ? strides()[i - lead] : 0;
  }
  Tensor out = as_strided(shape_out, strides_out, offset());
  return record_view("expand", *this, out,
                     [in_shape = shape()](const Tensor& g) { return sum_to(g, in_shape); });
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim());
  if (dim() == 0 || shape()[d] != 1) return *this;
  Shape s = shape(), st = strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  Tensor out = as_strided(s, st, offset());
  return record_view("squeeze", *this, out,
                     [in_shape = shape()](const Tensor& g) { return g.reshape(in_shape); });
}

Tensor Tensor::squeeze() const {
  Shape s, st;
  for (int64_t i = 0; i < dim(); ++i) {
    if (shape()[i] != 1) s.push_back(shape()[i]), st.push_back(strides()[i]);
  }
  Tensor out = as_strided(s, st, offset());
  return record_view("squeeze", *this, out,
                     [in_shape = shape()](const Tensor& g) { return g.reshape(in_shape); });
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1);
  Shape s = shape(), st = strides();
  const int64_t stride = d < dim() ? strides()[d] * shape()[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  Tensor out = as_strided(s, st, offset());
  return record_view("unsqueeze", *this, out,
                     [in_shape = shape()](const Tensor& g) { return g.reshape(in_shape); });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim());
  end_dim = wrap_dim(end_dim, dim());
  CHORUS_CHECK(start_dim <= end_dim, "flatten: start_dim after end_dim");
  Shape s(shape().begin(), shape().begin() + start_dim);
  int64_t merged = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) merged *= shape()[i];
  s.push_back(merged);
  s.insert(s.end(), shape().begin() + end_dim + 1, shape().end());
  return reshape(s);
}

}  // namespace chorus
