// CPU reduction kernels. Inputs arrive as contiguous [outer, inner] matrices in the compute
// dtype (f32/f64); each row reduces to one output element.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// out[r] = Σ_j rows[r, j], accumulated in double.
void sum_rows(const Tensor& out, const Tensor& rows);

}  // namespace chorus::cpu
