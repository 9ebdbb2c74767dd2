#include "core/nn/swiglu.h"

#include "core/ops/elementwise.h"

namespace chorus::nn {

SwiGLU::SwiGLU(int64_t dim, int64_t hidden, Generator& gen, const SwiGLUOptions& options)
    : FeedForward("SwiGLU") {
  LinearOptions in{options.bias, options.init_std, options.dtype};
  LinearOptions out{options.bias, options.out_init_std ? options.out_init_std : options.init_std,
                    options.dtype};
  // Registration order w1, w2, w3 gives state_dict names in LLaMA's order.
  w1 = register_module("w1", std::make_shared<Linear>(dim, hidden, gen, in));
  w2 = register_module("w2", std::make_shared<Linear>(hidden, dim, gen, out));
  w3 = register_module("w3", std::make_shared<Linear>(dim, hidden, gen, in));
}

Tensor SwiGLU::forward(const Tensor& x) const {
  return w2->forward(mul(silu(w1->forward(x)), w3->forward(x)));
}

}  // namespace chorus::nn
