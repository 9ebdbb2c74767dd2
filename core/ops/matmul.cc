// Front-ends of matmul, bmm and linear, and their backward passes. Everything funnels into
// product(), which broadcasts batch dims as stride-0 views and hands strided operands to
// cpu::batched_matmul: no operand is copied unless BLAS cannot read it as it is.
#include "core/ops/matmul.h"

#include <algorithm>

#include "core/autograd/node.h"
#include "core/ops/cpu/gemm_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/ops/reduce.h"

namespace chorus {

using autograd::Grads;
using ops_internal::kernel_dtype;

namespace {

Shape batch_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

Shape concat(Shape s, std::initializer_list<int64_t> tail) {
  s.insert(s.end(), tail);
  return s;
}

// Non-recording views (operands and gradients inside this file only).
Tensor raw_transpose(const Tensor& t) {
  Shape shape = t.shape(), strides = t.strides();
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  std::swap(strides[strides.size() - 1], strides[strides.size() - 2]);
  return t.as_strided(shape, strides, t.offset());
}
Tensor raw_unsqueeze(const Tensor& t, int64_t dim) {
  dim = wrap_dim(dim, t.dim() + 1);
  Shape shape = t.shape(), strides = t.strides();
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, 1);  // any value works for a size-1 dim
  return t.as_strided(shape, strides, t.offset());
}
Tensor raw_reshape_contiguous(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  return t.as_strided(shape, contiguous_strides(shape), t.offset());
}

// `t` in `compute`, readable by BLAS without a copy when its last two dims allow it.
Tensor blas_operand(const Tensor& t, DType compute) {
  Tensor c = ops_internal::cast_raw(t, compute);
  if (cpu::blas_layout(c.size(-2), c.size(-1), c.stride(-2), c.stride(-1))) return c;
  return ops_internal::contiguous_raw(c, compute);
}

// `t` ([..., r, c]) expanded to batch shape `batch` as a stride-0 view.
Tensor expand_batch(const Tensor& t, const Shape& batch) {
  const int64_t r = static_cast<int64_t>(batch.size());
  if (t.dim() == r + 2 && std::equal(batch.begin(), batch.end(), t.shape().begin())) return t;
  const int64_t lead = r - (t.dim() - 2);
  Shape shape = concat(batch, {t.size(-2), t.size(-1)});
  Shape strides(r + 2, 0);
  for (int64_t i = 0; i < r; ++i) {
    if (i >= lead && t.shape()[i - lead] != 1) strides[i] = t.strides()[i - lead];
  }
  strides[r] = t.stride(-2);
  strides[r + 1] = t.stride(-1);
  return t.as_strided(shape, strides, t.offset());
}

// Σ a[..., M, K] · b[..., K, N] in the compute dtype, with a's and b's batch dims broadcast
// together and then summed down to `out_batch` (right-aligned: absent leading dims and size-1
// dims are summed over). With `init` defined, the result starts as `init` (broadcast) and the
// products are added to it. Returns a contiguous [out_batch..., M, N] tensor.
Tensor product(const Tensor& a, const Tensor& b, const Shape& out_batch, DType compute,
               const Tensor& init = Tensor()) {
  Tensor pa = blas_operand(a, compute), pb = blas_operand(b, compute);
  const Shape batch = broadcast_shapes(batch_of(pa), batch_of(pb));
  const int64_t lead = static_cast<int64_t>(batch.size() - out_batch.size());
  CHORUS_CHECK(lead >= 0, "matmul: cannot reduce batch ", shape_str(batch), " to ",
               shape_str(out_batch));
  Shape c_batch(lead, 1);
  c_batch.insert(c_batch.end(), out_batch.begin(), out_batch.end());
  const Shape c_shape = concat(c_batch, {pa.size(-2), pb.size(-1)});
  Tensor c = Tensor::empty(c_shape, compute, a.device());
  if (init.defined()) c.copy_(ops_internal::broadcast_raw(init, c_shape, compute));
  CHORUS_KERNEL(cpu::batched_matmul)
  (c, expand_batch(pa, batch), expand_batch(pb, batch), init.defined());
  return raw_reshape_contiguous(c, concat(out_batch, {pa.size(-2), pb.size(-1)}));
}

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  ops_internal::require_same_device(op, {&a, &b});
  CHORUS_CHECK(is_floating(a.dtype()) && a.dtype() == b.dtype(), op,
               ": operands must share one floating dtype, got ", dtype_name(a.dtype()), " and ",
               dtype_name(b.dtype()));
}

// Vectors promoted to matrices the way matmul reads them.
Tensor as_left_matrix(const Tensor& a) { return a.dim() == 1 ? raw_unsqueeze(a, 0) : a; }
Tensor as_right_matrix(const Tensor& b) { return b.dim() == 1 ? raw_unsqueeze(b, 1) : b; }

Tensor to_result(const Tensor& t, const Shape& shape, DType dtype) {
  return ops_internal::cast_raw(raw_reshape_contiguous(t, shape), dtype);
}

Grads matmul_backward(const Tensor& g, const Tensor& a, const Tensor& b, bool need_a, bool need_b) {
  const Tensor a2 = as_left_matrix(a), b2 = as_right_matrix(b);
  Tensor g2 = g;
  if (a.dim() == 1) g2 = raw_unsqueeze(g2, g2.dim() - (b.dim() == 1 ? 0 : 1));
  if (b.dim() == 1) g2 = raw_unsqueeze(g2, g2.dim());
  const DType compute = kernel_dtype(a.dtype());
  Grads grads(2);
  if (need_a) {  // dA = dC · Bᵀ, summed over the dims A was broadcast along
    grads[0] =
        to_result(product(g2, raw_transpose(b2), batch_of(a2), compute), a.shape(), a.dtype());
  }
  if (need_b) {  // dB = Aᵀ · dC
    grads[1] =
        to_result(product(raw_transpose(a2), g2, batch_of(b2), compute), b.shape(), b.dtype());
  }
  return grads;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  CHORUS_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: operands need at least 1 dim, got ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  const Tensor a2 = as_left_matrix(a), b2 = as_right_matrix(b);
  CHORUS_CHECK(a2.size(-1) == b2.size(-2), "matmul: ", shape_str(a.shape()), " · ",
               shape_str(b.shape()), ": contracted sizes ", a2.size(-1), " and ", b2.size(-2),
               " differ");
  Shape batch;
  try {
    batch = broadcast_shapes(batch_of(a2), batch_of(b2));
  } catch (const Error&) {
    CHORUS_CHECK(false, "matmul: batch dims of ", shape_str(a.shape()), " and ",
                 shape_str(b.shape()), " do not broadcast");
  }
  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(a2.size(-2));
  if (b.dim() > 1) out_shape.push_back(b2.size(-1));
  Tensor out = to_result(product(a2, b2, batch, kernel_dtype(a.dtype())), out_shape, a.dtype());
  if (!autograd::needs_grad({&a, &b})) return out;  // skip building the closure
  autograd::record(
      "matmul", {a, b}, {out},
      [da = a.detach(), db = b.detach(), need_a = a.requires_grad(), need_b = b.requires_grad()](
          const Grads& g) { return matmul_backward(g[0], da, db, need_a, need_b); });
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  CHORUS_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0), "bmm: expects [B, n, k] ",
               "and [B, k, m], got ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  return matmul(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_operands("linear", x, weight);
  CHORUS_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input ",
               shape_str(x.shape()), " and weight ", shape_str(weight.shape()),
               " (expected [..., in] and [out, in])");
  if (bias.defined()) {
    ops_internal::require_same_device("linear", {&bias});
    CHORUS_CHECK(bias.dtype() == x.dtype() && bias.dim() == 1 && bias.size(0) == weight.size(0),
                 "linear: bias ", bias.ToString(), " does not match weight ",
                 shape_str(weight.shape()), " of dtype ", dtype_name(x.dtype()));
  }
  const DType compute = kernel_dtype(x.dtype());
  const Tensor x2 = as_left_matrix(x);
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(weight.size(0));
  Tensor out = to_result(product(x2, raw_transpose(weight), batch_of(x2), compute, bias), out_shape,
                         x.dtype());
  if (!autograd::needs_grad({&x, &weight, &bias})) return out;
  autograd::record(
      "linear", {x, weight, bias}, {out},
      [dx = x.detach(), dw = weight.detach(), need_x = x.requires_grad(),
       need_w = weight.requires_grad(),
       need_b = bias.defined() && bias.requires_grad()](const Grads& g) {
        const Tensor x2 = as_left_matrix(dx);
        const Tensor g2 = dx.dim() == 1 ? raw_unsqueeze(g[0], 0) : g[0];
        const DType compute = kernel_dtype(dx.dtype());
        Grads grads(3);
        if (need_x) {  // dx = g · W
          grads[0] = to_result(product(g2, dw, batch_of(x2), compute), dx.shape(), dx.dtype());
        }
        if (need_w) {  // dW = gᵀ · x over all rows: one GEMM when x's rows are contiguous
          grads[1] = to_result(product(raw_transpose(g2), x2, {}, compute), dw.shape(), dw.dtype());
        }
        if (need_b) {
          std::vector<int64_t> lead(g[0].dim() - 1);
          for (size_t i = 0; i < lead.size(); ++i) lead[i] = static_cast<int64_t>(i);
          grads[2] = lead.empty() ? g[0] : sum(g[0], lead);
        }
        return grads;
      });
  return out;
}

}  // namespace chorus
