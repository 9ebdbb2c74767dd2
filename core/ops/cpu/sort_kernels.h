// CPU kernels behind core/ops/sort.h. Each row of a contiguous [rows, n] input is ordered
// independently. The order is total: NaN counts as larger than every number (as in PyTorch)
// and equal values keep their input order (lower index first), so results are deterministic
// and every sort is stable. Inputs are f32, f64, integer or bool (front-ends compute
// reduced-precision floats in f32); values are written in the input's dtype, indices as i64.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// values, indices: contiguous [rows, n].
void sort_rows(const Tensor& values, const Tensor& indices, const Tensor& x, bool descending);

// The k largest (or smallest) of each row. values, indices: contiguous [rows, k]. With
// sorted = false the k elements come in input order instead of value order.
void topk_rows(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t k,
               bool largest, bool sorted);

}  // namespace chorus::cpu
