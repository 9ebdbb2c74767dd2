#include "core/nn/moe/experts.h"

#include <cmath>

#include "core/nn/moe/init.h"
#include "core/ops/elementwise.h"
#include "core/ops/grouped_matmul.h"
#include "core/ops/matmul.h"

namespace chorus::nn::moe {

namespace {

double fan_in_bound(int64_t fan_in) { return 1.0 / std::sqrt(static_cast<double>(fan_in)); }

void check_sizes(const char* what, int64_t d_model, int64_t d_ff) {
  CHORUS_CHECK(d_model > 0 && d_ff > 0, what, ": d_model (", d_model, ") and d_ff (", d_ff,
               ") must be positive");
}

}  // namespace

GroupedExperts::GroupedExperts(int64_t num_experts, int64_t d_model, int64_t d_ff, ExpertKind kind,
                               DType dtype, Generator& gen)
    : Module("GroupedExperts"), kind_(kind) {
  check_sizes("GroupedExperts", d_model, d_ff);
  CHORUS_CHECK(num_experts > 0, "GroupedExperts: num_experts must be positive, got ", num_experts);
  const double b_in = fan_in_bound(d_model), b_hidden = fan_in_bound(d_ff);
  w1 = register_parameter("w1", uniform_init({num_experts, d_model, d_ff}, b_in, dtype, gen));
  w2 = register_parameter("w2", uniform_init({num_experts, d_ff, d_model}, b_hidden, dtype, gen));
  if (kind == ExpertKind::kSwiGLU) {
    w3 = register_parameter("w3", uniform_init({num_experts, d_model, d_ff}, b_in, dtype, gen));
  }
}

Tensor GroupedExperts::forward(const Tensor& x, const Tensor& offsets) const {
  Tensor h = grouped_matmul(x, w1, offsets);
  h = kind_ == ExpertKind::kSwiGLU ? mul(silu(h), grouped_matmul(x, w3, offsets)) : gelu(h);
  return grouped_matmul(h, w2, offsets);
}

DenseFeedForward::DenseFeedForward(int64_t d_model, int64_t d_ff, ExpertKind kind, DType dtype,
                                   Generator& gen)
    : Module("DenseFeedForward"), kind_(kind) {
  check_sizes("DenseFeedForward", d_model, d_ff);
  const double b_in = fan_in_bound(d_model), b_hidden = fan_in_bound(d_ff);
  w1 = register_parameter("w1", uniform_init({d_model, d_ff}, b_in, dtype, gen));
  w2 = register_parameter("w2", uniform_init({d_ff, d_model}, b_hidden, dtype, gen));
  if (kind == ExpertKind::kSwiGLU) {
    w3 = register_parameter("w3", uniform_init({d_model, d_ff}, b_in, dtype, gen));
  }
}

Tensor DenseFeedForward::forward(const Tensor& x) const {
  Tensor h = matmul(x, w1);
  h = kind_ == ExpertKind::kSwiGLU ? mul(silu(h), matmul(x, w3)) : gelu(h);
  return matmul(h, w2);
}

}  // namespace chorus::nn::moe
