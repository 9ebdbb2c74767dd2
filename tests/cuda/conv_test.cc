// Parity of conv1d/conv2d on CUDA (cuDNN) against the CPU kernels: forward with bias and the
// three gradients, stride/padding/dilation/groups, odd sizes, every float dtype.
#include "core/ops/conv.h"

#include <gtest/gtest.h>

#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

const DType kFloatTypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kF64};

TEST(CudaParity, Conv2d) {
  CHORUS_REQUIRE_GPU();
  uint64_t seed = 1;
  for (DType dt : kFloatTypes) {
    Conv2dOptions o;
    o.stride = {2, 1};
    o.padding = {1, 2};
    o.dilation = {1, 2};
    o.groups = 2;
    const Tensor x = rand({2, 6, 11, 13}, dt, seed++),
                 w = rand({4, 3, 3, 3}, dt, seed++, -0.5, 0.5), b = rand({4}, dt, seed++);
    check_op("conv2d", dt, {x, w, b},
             [o](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], o); });
    const Tensor x2 = rand({3, 16, 12, 12}, dt, seed++),
                 w2 = rand({32, 16, 3, 3}, dt, seed++, -0.3, 0.3);
    Conv2dOptions same;
    same.padding = {1, 1};
    check_op("conv2d", dt, {x2, w2}, [same](const std::vector<Tensor>& in) {
      return conv2d(in[0], in[1], Tensor(), same);
    });
  }
}

TEST(CudaParity, Conv1d) {
  CHORUS_REQUIRE_GPU();
  uint64_t seed = 50;
  for (DType dt : kFloatTypes) {
    Conv1dOptions o;
    o.stride = 2;
    o.padding = 2;
    const Tensor x = rand({2, 8, 50}, dt, seed++), w = rand({12, 8, 5}, dt, seed++, -0.5, 0.5),
                 b = rand({12}, dt, seed++);
    check_op("conv1d", dt, {x, w, b},
             [o](const std::vector<Tensor>& in) { return conv1d(in[0], in[1], in[2], o); });
  }
}

}  // namespace
}  // namespace chorus::parity
