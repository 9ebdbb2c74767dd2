#include "modalities/common/conv.h"

#include <cmath>

#include "core/nn/init.h"

namespace chorus::modality {
namespace {

double bound_for(const Shape& weight_shape) {
  return 1.0 / std::sqrt(static_cast<double>(nn::init::fans(weight_shape).first));
}

}  // namespace

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, const Conv2dOptions& options,
               Generator& gen)
    : Module("Conv2d"), options_(options) {
  const Shape shape = {out, in / options.groups, kernel, kernel};
  const double bound = bound_for(shape);
  weight = register_parameter("weight", nn::init::uniform(shape, -bound, bound, gen));
  bias = register_parameter("bias", nn::init::uniform({out}, -bound, bound, gen));
}

Tensor Conv2d::forward(const Tensor& x) const { return conv2d(x, weight, bias, options_); }

Conv1d::Conv1d(int64_t in, int64_t out, int64_t kernel, const Conv1dOptions& options,
               Generator& gen)
    : Module("Conv1d"), options_(options) {
  const Shape shape = {out, in / options.groups, kernel};
  const double bound = bound_for(shape);
  weight = register_parameter("weight", nn::init::uniform(shape, -bound, bound, gen));
  bias = register_parameter("bias", nn::init::uniform({out}, -bound, bound, gen));
}

Tensor Conv1d::forward(const Tensor& x) const { return conv1d(x, weight, bias, options_); }

}  // namespace chorus::modality
