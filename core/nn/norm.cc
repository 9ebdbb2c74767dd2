#include "core/nn/norm.h"

#include "core/ops/normalization.h"

namespace chorus::nn {
namespace {

void check_input(const char* name, int64_t dim, const Tensor& x) {
  CHORUS_CHECK(x.dim() >= 1 && x.size(-1) == dim, name, "(", dim, "): input ", shape_str(x.shape()),
               " has the wrong last dim");
}

}  // namespace

LayerNorm::LayerNorm(int64_t dim, double eps, bool affine, bool bias, DType dtype)
    : Norm("LayerNorm"), dim_(dim), eps_(eps) {
  CHORUS_CHECK(dim > 0 && eps >= 0, "LayerNorm: needs dim > 0 and eps >= 0, got ", dim, ", ", eps);
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({dim}, dtype));
    if (bias) this->bias = register_parameter("bias", Tensor::zeros({dim}, dtype));
  }
}

Tensor LayerNorm::forward(const Tensor& x) const {
  check_input("LayerNorm", dim_, x);
  return layer_norm(x, {dim_}, weight, bias, eps_);
}

RMSNorm::RMSNorm(int64_t dim, double eps, DType dtype) : Norm("RMSNorm"), dim_(dim), eps_(eps) {
  CHORUS_CHECK(dim > 0 && eps >= 0, "RMSNorm: needs dim > 0 and eps >= 0, got ", dim, ", ", eps);
  weight = register_parameter("weight", Tensor::ones({dim}, dtype));
}

Tensor RMSNorm::forward(const Tensor& x) const {
  check_input("RMSNorm", dim_, x);
  return rms_norm(x, weight, eps_);
}

std::shared_ptr<Norm> make_norm(NormKind kind, int64_t dim, double eps, DType dtype) {
  if (kind == NormKind::kRMSNorm) return std::make_shared<RMSNorm>(dim, eps, dtype);
  return std::make_shared<LayerNorm>(dim, eps, true, true, dtype);
}

}  // namespace chorus::nn
