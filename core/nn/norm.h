// Normalisation layers over the last dim: LayerNorm and RMSNorm behind one interface, so a
// transformer picks its norm from the config (NormKind) without knowing which it got.
#pragma once

#include <memory>

#include "core/nn/module.h"

namespace chorus::nn {

enum class NormKind { kLayerNorm, kRMSNorm };

class Norm : public Module {
 public:
  using Module::Module;
  // x [..., dim] -> same shape and dtype.
  virtual Tensor forward(const Tensor& x) const = 0;
};

// (x - mean) / sqrt(var + eps) · weight + bias, biased variance over the last dim. Without
// `affine` neither weight nor bias exists; with affine but not `bias`, only the weight does.
class LayerNorm : public Norm {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5, bool affine = true, bool bias = true,
                     DType dtype = DType::kF32);
  Tensor forward(const Tensor& x) const override;

  Tensor weight;  // [dim], ones at init
  Tensor bias;    // [dim], zeros at init

 private:
  int64_t dim_;
  double eps_;
};

// x / sqrt(mean(x²) + eps) · weight over the last dim (Zhang & Sennrich 2019).
class RMSNorm : public Norm {
 public:
  explicit RMSNorm(int64_t dim, double eps = 1e-6, DType dtype = DType::kF32);
  Tensor forward(const Tensor& x) const override;

  Tensor weight;  // [dim], ones at init

 private:
  int64_t dim_;
  double eps_;
};

// LayerNorm (affine, with bias) or RMSNorm of width `dim`.
std::shared_ptr<Norm> make_norm(NormKind kind, int64_t dim, double eps, DType dtype = DType::kF32);

}  // namespace chorus::nn
