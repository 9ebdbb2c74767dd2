// CUDA entries of the sort and topk kernel slots: rows of up to kMaxSortRow elements sort in
// shared memory (sort_kernels.cu), longer ones through a segmented radix sort
// (sort_long_kernels.cu); only more than kMaxLongSortItems elements take the host fallback.
#include "core/ops/cpu/sort_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/sort_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

// Long rows: the radix sort's workspace comes from the caching allocator.
void sort_long(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t count,
               bool descending, bool by_position, const char* what) {
  const int64_t rows = x.shape()[0], n = x.shape()[1];
  const int d = device_index(x, what);
  DeviceGuard guard(d);
  const size_t bytes = sort_long_rows_workspace(x.dtype(), rows, n, count, by_position);
  const Tensor workspace = Tensor::empty({static_cast<int64_t>(bytes)}, DType::kU8, x.device());
  launch_sort_long_rows(x.dtype(), values.raw_data(), static_cast<int64_t*>(indices.raw_data()),
                        x.raw_data(), rows, n, count, descending, by_position, workspace.raw_data(),
                        current_stream(d));
  check_launch(what, describe(what, {&values, &indices, &x}));
}

void sort(const Tensor& values, const Tensor& indices, const Tensor& x, bool descending) {
  const int64_t rows = x.shape()[0], n = x.shape()[1];
  if (n > kMaxSortRow && rows * n <= kMaxLongSortItems) {
    return sort_long(values, indices, x, n, descending, /*by_position=*/false, "sort");
  }
  if (n > kMaxSortRow) {
    return ops_internal::host_fallback<&cpu::sort_rows>("cpu::sort_rows", values, indices, x,
                                                        descending);
  }
  const int d = device_index(x, "sort");
  DeviceGuard guard(d);
  launch_sort_rows(x.dtype(), values.raw_data(), static_cast<int64_t*>(indices.raw_data()),
                   x.raw_data(), rows, n, n, descending, /*by_position=*/false, current_stream(d));
  check_launch("sort", describe("sort", {&values, &indices, &x}));
}

void topk(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t k, bool largest,
          bool sorted) {
  const int64_t rows = x.shape()[0], n = x.shape()[1];
  if (n > kMaxSortRow && rows * n <= kMaxLongSortItems) {
    return sort_long(values, indices, x, k, largest, /*by_position=*/!sorted, "topk");
  }
  if (n > kMaxSortRow) {
    return ops_internal::host_fallback<&cpu::topk_rows>("cpu::topk_rows", values, indices, x, k,
                                                        largest, sorted);
  }
  const int d = device_index(x, "topk");
  DeviceGuard guard(d);
  launch_sort_rows(x.dtype(), values.raw_data(), static_cast<int64_t*>(indices.raw_data()),
                   x.raw_data(), rows, n, k, /*descending=*/largest, /*by_position=*/!sorted,
                   current_stream(d));
  check_launch("topk", describe("topk", {&values, &indices, &x}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::sort_rows, sort);
CHORUS_REGISTER_CUDA_KERNEL(cpu::topk_rows, topk);

}  // namespace
}  // namespace chorus::cuda
