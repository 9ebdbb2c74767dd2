// CUDA entries of the dropout, embedding and indexing kernel slots.
#include <cmath>

#include "core/ops/cpu/dropout_kernels.h"
#include "core/ops/cpu/embedding_kernels.h"
#include "core/ops/cpu/index_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/index_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

bool is_f64(const Tensor& t) { return t.dtype() == DType::kF64; }

void dropout_forward(const Tensor& out, const Tensor& mask, const Tensor& x, double p, double scale,
                     uint64_t seed, uint64_t offset) {
  const int d = device_index(x, "dropout");
  DeviceGuard guard(d);
  // The CPU's integer form of "uniform >= p" (see cpu/dropout_kernels.cc).
  const uint32_t threshold = static_cast<uint32_t>(std::ceil(p * 16777216.0));
  launch_dropout_forward(is_f64(x), out.raw_data(), static_cast<uint8_t*>(mask.raw_data()),
                         x.raw_data(), x.numel(), threshold, scale, seed, offset,
                         current_stream(d));
  check_launch("dropout", describe("dropout", {&out, &mask, &x}));
}

void dropout_backward(const Tensor& gx, const Tensor& g, const Tensor& mask, double scale) {
  const int d = device_index(g, "dropout backward");
  DeviceGuard guard(d);
  launch_dropout_backward(is_f64(g), gx.raw_data(), g.raw_data(),
                          static_cast<const uint8_t*>(mask.raw_data()), g.numel(), scale,
                          current_stream(d));
  check_launch("dropout backward", describe("dropout_backward", {&gx, &g, &mask}));
}

void embedding_forward(const Tensor& out, const Tensor& weight, const Tensor& indices) {
  const int d = device_index(weight, "embedding");
  DeviceGuard guard(d);
  launch_embedding_forward(out.raw_data(), weight.raw_data(), indices.device_data<int64_t>(),
                           indices.numel(), weight.shape()[1] * weight.itemsize(),
                           current_stream(d));
  check_launch("embedding", describe("embedding", {&out, &weight, &indices}));
}

void embedding_backward(const Tensor& gweight, const Tensor& g, const Tensor& indices,
                        int64_t padding_idx) {
  const int d = device_index(g, "embedding backward");
  gweight.zero_();
  DeviceGuard guard(d);
  launch_embedding_backward(is_f64(gweight), gweight.raw_data(), g.raw_data(),
                            indices.device_data<int64_t>(), indices.numel(), gweight.shape()[1],
                            padding_idx, current_stream(d));
  check_launch("embedding backward", describe("embedding_backward", {&gweight, &g, &indices}));
}

// `t` viewed with `shape` and its own strides, the stride of `dim` set to 0.
Tensor dim_zeroed(const Tensor& t, const Shape& shape, int64_t dim) {
  Shape strides = t.strides();
  strides[dim] = 0;
  return t.as_strided(shape, strides, t.offset());
}

void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  const int d = device_index(x, "gather");
  DeviceGuard guard(d);
  const Tensor xv = dim_zeroed(x, index.shape(), dim);
  Operand ops[3];
  const Geometry geo = make_geometry(index.shape(), {&out, &index, &xv}, ops);
  launch_gather(x.itemsize(), geo, ops[0], ops[1], ops[2], x.stride(dim), current_stream(d));
  check_launch("gather", describe("gather", {&out, &x, &index}));
}

void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (!atomic_add_supported(out.dtype())) {
    return ops_internal::host_fallback<&cpu::scatter_add_kernel>("cpu::scatter_add_kernel", out,
                                                                 dim, index, src);
  }
  const int d = device_index(out, "scatter_add");
  DeviceGuard guard(d);
  const Tensor ov = dim_zeroed(out, index.shape(), dim);
  const Tensor sv = src.as_strided(index.shape(), src.strides(), src.offset());
  Operand ops[3];
  const Geometry geo = make_geometry(index.shape(), {&ov, &index, &sv}, ops);
  launch_scatter_add(out.dtype(), geo, ops[0], ops[1], ops[2], out.stride(dim), current_stream(d));
  check_launch("scatter_add", describe("scatter_add", {&out, &index, &src}));
}

void split(const Tensor& t, int64_t dim, int64_t& outer, int64_t& n, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= t.shape()[i];
  n = t.shape()[dim];
  for (int64_t i = dim + 1; i < t.dim(); ++i) inner *= t.shape()[i];
}

void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  const int d = device_index(x, "index_select");
  DeviceGuard guard(d);
  int64_t outer, n, inner;
  split(x, dim, outer, n, inner);
  launch_index_select(x.itemsize(), out.raw_data(), x.raw_data(), index.device_data<int64_t>(),
                      outer, n, index.numel(), inner, current_stream(d));
  check_launch("index_select", describe("index_select", {&out, &x, &index}));
}

void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (!atomic_add_supported(out.dtype())) {
    return ops_internal::host_fallback<&cpu::index_add_kernel>("cpu::index_add_kernel", out, dim,
                                                               index, src);
  }
  const int d = device_index(out, "index_add");
  DeviceGuard guard(d);
  int64_t outer, n, inner;
  split(out, dim, outer, n, inner);
  launch_index_add(out.dtype(), out.raw_data(), src.raw_data(), index.device_data<int64_t>(), outer,
                   n, index.numel(), inner, current_stream(d));
  check_launch("index_add", describe("index_add", {&out, &index, &src}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::dropout_forward, dropout_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::dropout_backward, dropout_backward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::embedding_forward, embedding_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::embedding_backward, embedding_backward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::gather_kernel, gather);
CHORUS_REGISTER_CUDA_KERNEL(cpu::scatter_add_kernel, scatter_add);
CHORUS_REGISTER_CUDA_KERNEL(cpu::index_select_kernel, index_select);
CHORUS_REGISTER_CUDA_KERNEL(cpu::index_add_kernel, index_add);

}  // namespace
}  // namespace chorus::cuda
