// conv2d, attention and pooling against PyTorch 1.13, values and gradients, from
// tests/fixtures/linalg_torch.json (written by tools/fixtures/linalg_torch.py).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/ops/attention.h"
#include "core/ops/conv.h"
#include "core/ops/pool.h"
#include "test_util.h"

namespace chorus {
namespace {

using nlohmann::json;
using testing::AllClose;

json load_fixture() {
  std::ifstream in(std::string(CHORUS_FIXTURE_DIR) + "/linalg_torch.json");
  EXPECT_TRUE(in.good()) << "missing fixture linalg_torch.json";
  return json::parse(in);
}

const json& fixture() {
  static const json j = load_fixture();
  return j;
}

Tensor tensor_of(const json& t) {
  return Tensor::from_doubles(t.at("data").get<std::vector<double>>(), t.at("shape").get<Shape>(),
                              DType::kF64);
}

TEST(TorchReference, Conv2d) {
  const json& c = fixture().at("conv2d");
  Conv2dOptions o;
  o.stride = c.at("options").at("stride").get<std::array<int64_t, 2>>();
  o.padding = c.at("options").at("padding").get<std::array<int64_t, 2>>();
  o.dilation = c.at("options").at("dilation").get<std::array<int64_t, 2>>();
  o.groups = c.at("options").at("groups").get<int64_t>();
  Tensor x = tensor_of(c.at("x")).set_requires_grad();
  Tensor w = tensor_of(c.at("weight")).set_requires_grad();
  Tensor b = tensor_of(c.at("bias")).set_requires_grad();
  Tensor out = conv2d(x, w, b, o);
  EXPECT_TRUE(AllClose(out, tensor_of(c.at("out")), 1e-12, 1e-12));
  out.backward(tensor_of(c.at("grad_out")));
  EXPECT_TRUE(AllClose(x.grad(), tensor_of(c.at("grad_x")), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(w.grad(), tensor_of(c.at("grad_weight")), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(b.grad(), tensor_of(c.at("grad_bias")), 1e-12, 1e-12));
}

TEST(TorchReference, CausalPaddedAttention) {
  const json& a = fixture().at("attention");
  Tensor q = tensor_of(a.at("q")).set_requires_grad();
  Tensor k = tensor_of(a.at("k")).set_requires_grad();
  Tensor v = tensor_of(a.at("v")).set_requires_grad();
  const auto pad = a.at("key_padding_mask").get<std::vector<int>>();
  AttentionOptions o;
  o.causal = a.at("causal").get<bool>();
  o.key_padding_mask =
      Tensor::from_vector(std::vector<bool>(pad.begin(), pad.end()), {q.size(0), k.size(2)});
  Tensor out = scaled_dot_product_attention(q, k, v, o);
  EXPECT_TRUE(AllClose(out, tensor_of(a.at("out")), 1e-12, 1e-12));
  out.backward(tensor_of(a.at("grad_out")));
  EXPECT_TRUE(AllClose(q.grad(), tensor_of(a.at("grad_q")), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(k.grad(), tensor_of(a.at("grad_k")), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(v.grad(), tensor_of(a.at("grad_v")), 1e-12, 1e-12));
  // The same case in f32 through the vectorised float path.
  AttentionOptions o32 = o;
  Tensor out32 = scaled_dot_product_attention(
      q.detach().to(DType::kF32), k.detach().to(DType::kF32), v.detach().to(DType::kF32), o32);
  EXPECT_TRUE(AllClose(out32, tensor_of(a.at("out")), 1e-5, 1e-5));
}

TEST(TorchReference, Pools) {
  const json& p = fixture().at("pool");
  Tensor x = tensor_of(p.at("x"));
  EXPECT_TRUE(AllClose(avg_pool2d(x, {3, 2}, {2, 2}, {1, 1}, false),
                       tensor_of(p.at("avg_pool2d_k32_s22_p11_nopad")), 1e-13));
  EXPECT_TRUE(
      AllClose(adaptive_avg_pool2d(x, {4, 3}), tensor_of(p.at("adaptive_avg_pool2d_4x3")), 1e-13));
}

}  // namespace
}  // namespace chorus
