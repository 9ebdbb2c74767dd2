#include "core/nn/linear.h"

#include <cmath>

#include "core/nn/init.h"
#include "core/ops/matmul.h"

namespace chorus::nn {

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen,
               const LinearOptions& options)
    : Module("Linear") {
  CHORUS_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got in ",
               in_features, ", out ", out_features);
  const Shape shape = {out_features, in_features};
  if (options.init_std) {
    const double s = *options.init_std;
    weight = register_parameter(
        "weight", init::trunc_normal(shape, 0.0, s, -2 * s, 2 * s, gen, options.dtype));
    if (options.bias)
      bias = register_parameter("bias", Tensor::zeros({out_features}, options.dtype));
  } else {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    weight = register_parameter("weight", init::uniform(shape, -bound, bound, gen, options.dtype));
    if (options.bias) {
      bias = register_parameter("bias",
                                init::uniform({out_features}, -bound, bound, gen, options.dtype));
    }
  }
}

Tensor Linear::forward(const Tensor& x) const {
  CHORUS_CHECK(x.dim() >= 1 && x.size(-1) == in_features(), "Linear(", in_features(), " -> ",
               out_features(), "): input ", shape_str(x.shape()), " has the wrong last dim");
  return linear(x, weight, bias);
}

}  // namespace chorus::nn
