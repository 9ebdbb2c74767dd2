#include "core/nn/mlp.h"

namespace chorus::nn {

MLP::MLP(int64_t dim, int64_t hidden, Generator& gen, const MLPOptions& options)
    : FeedForward("MLP"), approx_(options.approx) {
  LinearOptions in{options.bias, options.init_std, options.dtype};
  LinearOptions out{options.bias, options.out_init_std ? options.out_init_std : options.init_std,
                    options.dtype};
  fc1 = register_module("fc1", std::make_shared<Linear>(dim, hidden, gen, in));
  fc2 = register_module("fc2", std::make_shared<Linear>(hidden, dim, gen, out));
}

Tensor MLP::forward(const Tensor& x) const { return fc2->forward(gelu(fc1->forward(x), approx_)); }

}  // namespace chorus::nn
