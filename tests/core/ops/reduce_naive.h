// A naive reference for reductions in tests: groups the elements of x by their output
// position (reduced dims dropped) and applies a function to each group.
#pragma once

#include <functional>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::testing {

// Output of reducing x over `dims` (empty = all) without keepdim: out[k] = f(group k), the
// group holding x's elements in row-major order.
inline Tensor naive_reduce(const Tensor& x, std::vector<int64_t> dims,
                           const std::function<double(const std::vector<double>&)>& f) {
  const Shape& s = x.shape();
  const int64_t nd = x.dim();
  std::vector<bool> reduced(nd, dims.empty());
  for (int64_t d : dims) reduced[d < 0 ? d + nd : d] = true;
  Shape out_shape;
  for (int64_t i = 0; i < nd; ++i) {
    if (!reduced[i]) out_shape.push_back(s[i]);
  }
  std::vector<std::vector<double>> groups(shape_numel(out_shape));
  const auto v = x.to_vector<double>();
  for (int64_t flat = 0; flat < static_cast<int64_t>(v.size()); ++flat) {
    int64_t rest = flat, out = 0, stride = 1;
    for (int64_t i = nd - 1; i >= 0; --i) {
      const int64_t coord = rest % s[i];
      rest /= s[i];
      if (!reduced[i]) {
        out += coord * stride;
        stride *= s[i];
      }
    }
    groups[out].push_back(v[flat]);
  }
  std::vector<double> result;
  for (const auto& g : groups) result.push_back(f(g));
  return Tensor::from_doubles(result, out_shape, DType::kF64);
}

}  // namespace chorus::testing
