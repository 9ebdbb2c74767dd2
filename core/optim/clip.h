// Gradient-norm clipping with torch.nn.utils.clip_grad_norm_'s semantics.
//
// The total norm is the norm_type-norm of all gradients together (as if concatenated),
// accumulated in f64 whatever the gradients' dtypes (f32, bf16, f16, ... may mix). When it
// exceeds max_norm every gradient is multiplied by max_norm / (total + 1e-6); otherwise the
// gradients are left alone. Parameters without a gradient are skipped.
//
// Non-finite total (an inf or NaN gradient): the gradients are left untouched and the
// non-finite total is returned, so the caller can skip the step (as mixed-precision loss
// scaling does). PyTorch would scale them by 0 or NaN instead. With error_if_nonfinite the
// call throws chorus::Error.
#pragma once

#include <vector>

#include "core/optim/optimizer.h"

namespace chorus::optim {

// The total gradient norm without clipping. norm_type > 0 or +inf.
double grad_norm(const std::vector<Tensor>& params, double norm_type = 2.0);

// Clips in place and returns the total norm before clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);
double clip_grad_norm(const NamedTensors& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);
// Every parameter of every group.
double clip_grad_norm(const Optimizer& optimizer, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);

}  // namespace chorus::optim
