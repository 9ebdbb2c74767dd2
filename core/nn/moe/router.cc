#include "core/nn/moe/router.h"

#include <cmath>
#include <vector>

#include "core/autograd/node.h"
#include "core/nn/moe/init.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "core/ops/sort.h"

namespace chorus::nn::moe {

Router::Router(const RouterConfig& config)
    : Module("Router"), config_(config), generator_(config.seed) {
  CHORUS_CHECK(config.d_model > 0 && config.num_experts > 0, "Router: d_model (", config.d_model,
               ") and num_experts (", config.num_experts, ") must be positive");
  CHORUS_CHECK(config.top_k >= 1 && config.top_k <= 8 && config.top_k <= config.num_experts,
               "Router: top_k must lie in [1, min(8, num_experts = ", config.num_experts,
               ")], got ", config.top_k);
  CHORUS_CHECK(config.jitter_eps >= 0.0 && config.jitter_eps < 1.0,
               "Router: jitter_eps must lie in [0, 1), got ", config.jitter_eps);
  CHORUS_CHECK(config.bias_update_rate >= 0.0, "Router: bias_update_rate must be >= 0, got ",
               config.bias_update_rate);
  // The same bound as PyTorch's default Linear initialisation, 1/sqrt(fan_in).
  const double bound = 1.0 / std::sqrt(static_cast<double>(config.d_model));
  weight = register_parameter("weight", uniform_init({config.num_experts, config.d_model}, bound,
                                                     config.dtype, generator_));
  if (config.bias_balancing) {
    expert_bias = register_buffer("expert_bias", Tensor::zeros({config.num_experts}));
  }
}

RouterOutput Router::forward(const Tensor& x) {
  CHORUS_CHECK(x.defined() && x.dim() == 2 && x.size(1) == config_.d_model,
               "Router: expects x [N, ", config_.d_model, "], got ",
               x.defined() ? shape_str(x.shape()) : "undefined");
  // Routing decisions are sensitive to rounding (a near-tie flips an expert), so the router
  // never runs in bf16/f16.
  const DType compute = x.dtype() == DType::kF64 ? DType::kF64 : DType::kF32;
  Tensor xr = x.to(compute);
  if (is_training() && config_.jitter_eps > 0.0) {
    xr = mul(xr, uniform_jitter(xr.shape(), config_.jitter_eps, compute, generator_));
  }
  RouterOutput out;
  out.logits = linear(xr, weight.to(compute));
  out.scores =
      config_.score == ScoreFunction::kSoftmax ? softmax(out.logits, -1) : sigmoid(out.logits);
  {
    autograd::NoGradGuard no_grad;
    Tensor selection = out.scores.detach();
    if (expert_bias.defined()) selection = add(selection, expert_bias.to(compute));
    out.indices = topk(selection, config_.top_k, -1).indices;
  }
  out.weights = gather(out.scores, 1, out.indices);
  if (config_.renormalize) out.weights = div(out.weights, sum(out.weights, {-1}, true));
  return out;
}

void Router::update_bias(const Tensor& tokens_per_expert) {
  CHORUS_CHECK(expert_bias.defined(), "Router::update_bias: bias balancing is disabled");
  CHORUS_CHECK(tokens_per_expert.defined() && tokens_per_expert.dim() == 1 &&
                   tokens_per_expert.size(0) == config_.num_experts,
               "Router::update_bias: expects loads [", config_.num_experts, "], got ",
               tokens_per_expert.defined() ? shape_str(tokens_per_expert.shape()) : "undefined");
  const std::vector<double> load = tokens_per_expert.to_vector<double>();
  std::vector<double> bias = expert_bias.to_vector<double>();
  double mean = 0.0;
  for (double l : load) mean += l;
  mean /= static_cast<double>(load.size());
  for (size_t i = 0; i < bias.size(); ++i) {
    const double gap = mean - load[i];
    bias[i] += config_.bias_update_rate * static_cast<double>((gap > 0) - (gap < 0));
  }
  // Steps of γ = 1e-3 on biases near 0.5 vanish in bf16 (spacing 2^-8), so after a
  // Module::to(bf16) the bias goes back to f32 (in place: every handle sees it).
  const DType dtype = expert_bias.dtype() == DType::kF64 ? DType::kF64 : DType::kF32;
  expert_bias.set_data(
      Tensor::from_doubles(bias, expert_bias.shape(), dtype).to(expert_bias.device()));
}

}  // namespace chorus::nn::moe
