// Front-ends of the indexing ops: shape, dtype and index-range checks, kernel dispatch, and
// the backward formulas (gather <-> scatter_add, index_select <-> index_add).
#include "core/ops/index.h"

#include <string>

#include "core/autograd/node.h"
#include "core/ops/cpu/index_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;
using ops_internal::cast_raw;
using ops_internal::contiguous_raw;

namespace {

// Kernels index dim 0 of a 0-dim tensor as a one-element 1-D tensor (PyTorch accepts scalars
// here with dim 0 / -1).
Tensor lift(const Tensor& t) { return t.dim() == 0 ? t.as_strided({1}, {1}, t.offset()) : t; }

Tensor prepare_index(const char* op, const Tensor& index, bool allow_i32) {
  CHORUS_CHECK(index.defined(), op, ": the index tensor is undefined");
  const bool ok = index.dtype() == DType::kI64 || (allow_i32 && index.dtype() == DType::kI32);
  CHORUS_CHECK(ok, op, ": index must be i64", (allow_i32 ? " or i32" : ""), ", got ",
               dtype_name(index.dtype()));
  return contiguous_raw(index, DType::kI64);
}

// Throws on the first index outside [0, size), naming its value and position. `index` is
// contiguous i64; `what` describes the bound ("dim 1 of size 4").
void check_range(const char* op, const Tensor& device_index, int64_t size,
                 const std::string& what) {
  const Tensor index = ops_internal::host_raw(device_index);
  const int64_t* p = index.data<int64_t>();
  const int64_t n = index.numel();
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] >= 0 && p[i] < size) continue;
    Shape pos(index.shape().size());
    int64_t rem = i;
    for (size_t d = pos.size(); d-- > 0;) {
      pos[d] = rem % index.shape()[d];
      rem /= index.shape()[d];
    }
    CHORUS_CHECK(false, op, ": index ", p[i], " is out of range for ", what, " (at index position ",
                 shape_str(pos), ")");
  }
}

std::string dim_desc(const Tensor& x, int64_t dim) {
  return "dim " + std::to_string(dim) + " of size " + std::to_string(lift(x).shape()[dim]);
}

// The dtype scatter-style kernels add in: f32 for reduced-precision floats, else the dtype.
DType accumulate_dtype(const char* op, DType dtype) {
  CHORUS_CHECK(dtype != DType::kBool, op,
               ": bool tensors cannot be added; convert to an integer "
               "dtype first");
  return is_floating(dtype) ? ops_internal::kernel_dtype(dtype) : dtype;
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  ops_internal::require_same_device("gather", {&x, &index});
  const int64_t d = wrap_dim(dim, x.dim());
  CHORUS_CHECK(index.defined() && index.dim() == x.dim(), "gather: index ",
               shape_str(index.shape()), " and input ", shape_str(x.shape()),
               " must have the same number of dims");
  const Tensor idx = prepare_index("gather", index, false);
  for (int64_t k = 0; k < x.dim(); ++k) {
    CHORUS_CHECK(k == d || idx.shape()[k] <= x.shape()[k], "gather: index ", shape_str(idx.shape()),
                 " is larger than input ", shape_str(x.shape()), " in dim ", k);
  }
  check_range("gather", idx, lift(x).shape()[d], dim_desc(x, d));
  Tensor out = Tensor::empty(idx.shape(), x.dtype(), x.device());
  CHORUS_KERNEL(cpu::gather_kernel)(lift(out), lift(x), d, lift(idx));
  autograd::record("gather", {x}, {out}, [shape = x.shape(), d, idx](const Grads& g) {
    return Grads{scatter_add(Tensor::zeros(shape, g[0].dtype(), g[0].device()), d, idx, g[0])};
  });
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  ops_internal::require_same_device("scatter_add", {&x, &index, &src});
  const int64_t d = wrap_dim(dim, x.dim());
  CHORUS_CHECK(index.defined() && src.defined() && index.dim() == x.dim() && src.dim() == x.dim(),
               "scatter_add: input ", shape_str(x.shape()), ", index ", shape_str(index.shape()),
               " and src ", shape_str(src.shape()), " must have the same number of dims");
  CHORUS_CHECK(x.dtype() == src.dtype(), "scatter_add: input (", dtype_name(x.dtype()),
               ") and src (", dtype_name(src.dtype()), ") must have the same dtype");
  const DType compute = accumulate_dtype("scatter_add", x.dtype());
  const Tensor idx = prepare_index("scatter_add", index, false);
  for (int64_t k = 0; k < x.dim(); ++k) {
    CHORUS_CHECK(idx.shape()[k] <= src.shape()[k] && (k == d || idx.shape()[k] <= x.shape()[k]),
                 "scatter_add: index ", shape_str(idx.shape()), " is larger than src ",
                 shape_str(src.shape()), " or (outside dim ", d, ") input ", shape_str(x.shape()),
                 " in dim ", k);
  }
  check_range("scatter_add", idx, lift(x).shape()[d], dim_desc(x, d));
  Tensor out = Tensor::empty(x.shape(), compute, x.device());
  out.copy_(x);
  CHORUS_KERNEL(cpu::scatter_add_kernel)(lift(out), d, lift(idx), lift(cast_raw(src, compute)));
  if (compute != x.dtype()) out = cast_raw(out, x.dtype());
  autograd::record("scatter_add", {x, src}, {out},
                   [d, idx, src_shape = src.shape()](const Grads& g) {
                     Tensor gs = gather(g[0], d, idx);
                     if (gs.shape() != src_shape) {
                       // src positions beyond the index's extent never reached the output.
                       Tensor full = Tensor::zeros(src_shape, gs.dtype(), gs.device());
                       full.as_strided(gs.shape(), full.strides(), 0).copy_(gs);
                       gs = full;
                     }
                     return Grads{g[0], gs};
                   });
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  ops_internal::require_same_device("index_select", {&x, &index});
  const int64_t d = wrap_dim(dim, x.dim());
  CHORUS_CHECK(index.defined() && index.dim() <= 1, "index_select: index must be 1-D, got ",
               shape_str(index.shape()));
  const Tensor idx = prepare_index("index_select", index, true);
  check_range("index_select", idx, lift(x).shape()[d], dim_desc(x, d));
  const int64_t k = idx.numel();
  Shape out_shape = x.shape();
  if (x.dim() > 0) {
    out_shape[d] = k;
  } else {
    out_shape = index.shape();  // a scalar input gives one element per index
  }
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  CHORUS_KERNEL(cpu::index_select_kernel)
  (lift(out), contiguous_raw(lift(x), x.dtype()), d, lift(idx));
  autograd::record("index_select", {x}, {out}, [shape = x.shape(), d, idx](const Grads& g) {
    // index_add accepts g's shape as is (also for a scalar input, through lift()).
    return Grads{index_add(Tensor::zeros(shape, g[0].dtype(), g[0].device()), d, idx, g[0])};
  });
  return out;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  ops_internal::require_same_device("index_add", {&x, &index, &src});
  const int64_t d = wrap_dim(dim, x.dim());
  CHORUS_CHECK(index.defined() && index.dim() <= 1, "index_add: index must be 1-D, got ",
               shape_str(index.shape()));
  const Tensor idx = prepare_index("index_add", index, true);
  Shape want = lift(x).shape();
  want[d] = idx.numel();
  CHORUS_CHECK(src.defined() && lift(src).shape() == want, "index_add: src ",
               shape_str(src.shape()), " must be ", shape_str(want), " for input ",
               shape_str(x.shape()), " and ", idx.numel(), " indices along dim ", d);
  CHORUS_CHECK(x.dtype() == src.dtype(), "index_add: input (", dtype_name(x.dtype()), ") and src (",
               dtype_name(src.dtype()), ") must have the same dtype");
  const DType compute = accumulate_dtype("index_add", x.dtype());
  check_range("index_add", idx, lift(x).shape()[d], dim_desc(x, d));
  Tensor out = Tensor::empty(x.shape(), compute, x.device());
  out.copy_(x);
  CHORUS_KERNEL(cpu::index_add_kernel)(lift(out), d, lift(idx), contiguous_raw(lift(src), compute));
  if (compute != x.dtype()) out = cast_raw(out, x.dtype());
  autograd::record("index_add", {x, src}, {out}, [d, idx, src_shape = src.shape()](const Grads& g) {
    return Grads{g[0], index_select(g[0], d, idx).reshape(src_shape)};
  });
  return out;
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  ops_internal::require_same_device("one_hot", {&indices});
  CHORUS_CHECK(indices.defined() && is_integral(indices.dtype()),
               "one_hot: indices must be an integer tensor, got ",
               indices.defined() ? dtype_name(indices.dtype()) : "undefined");
  CHORUS_CHECK(num_classes >= -1, "one_hot: num_classes must be positive or -1, got ", num_classes);
  const Tensor idx = ops_internal::host_raw(contiguous_raw(indices, DType::kI64));
  const int64_t* p = idx.data<int64_t>();
  const int64_t n = idx.numel();
  if (num_classes == -1) {
    CHORUS_CHECK(n > 0, "one_hot: cannot infer num_classes from an empty tensor; pass it");
    int64_t hi = p[0];
    for (int64_t i = 1; i < n; ++i) hi = std::max(hi, p[i]);
    num_classes = hi + 1;
  }
  check_range("one_hot", idx, num_classes, std::to_string(num_classes) + " classes");
  Shape shape = indices.shape();
  shape.push_back(num_classes);
  // Built on the host (it is as large as the output; the indices were read there anyway).
  Tensor out = Tensor::zeros(shape, DType::kI64);
  int64_t* o = out.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) o[i * num_classes + p[i]] = 1;
  return ops_internal::to_device_raw(out, indices.device());
}

}  // namespace chorus
