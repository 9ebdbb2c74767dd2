// nn::Module: registration and names, state_dict round trips through safetensors, strict
// loading, dtype conversion keeping handles valid, train/eval, parameter counting.
#include "core/nn/module.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/io/safetensors.h"
#include "core/nn/linear.h"
#include "core/nn/module_list.h"
#include "core/nn/transformer.h"
#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using testing::AllClose;
using testing::BitwiseEqual;
using testing::ScratchDir;

// A module with a parameter, a buffer, a frozen parameter and a child.
class Leaf : public Module {
 public:
  explicit Leaf(double v) : Module("Leaf") {
    w = register_parameter("w", Tensor::full({2, 3}, v));
    frozen = register_parameter("frozen", Tensor::full({4}, v), /*requires_grad=*/false);
    count = register_buffer("count", Tensor::zeros({1}, DType::kI64));
  }
  Tensor w, frozen, count;
};

class Tree : public Module {
 public:
  explicit Tree(double v) : Module("Tree") {
    bias = register_parameter("bias", Tensor::full({3}, v));
    left = register_module("left", std::make_shared<Leaf>(v + 1));
    list = register_module("list", std::make_shared<ModuleList>());
    list->push_back(std::make_shared<Leaf>(v + 2));
    list->push_back(std::make_shared<Leaf>(v + 3));
  }
  // Exposes registration to the error tests.
  void add_param(const std::string& name) { register_parameter(name, Tensor::zeros({1})); }
  Tensor bias;
  std::shared_ptr<Leaf> left;
  std::shared_ptr<ModuleList> list;
};

std::vector<std::string> names_of(const NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [n, _] : tensors) out.push_back(n);
  return out;
}

TransformerConfig tiny_config() {
  TransformerConfig c;
  c.width = 8;
  c.depth = 4;
  c.n_heads = 2;
  c.ffn_hidden = 16;
  return c;
}

TEST(ModuleTest, NamesFollowRegistrationOrderAndNesting) {
  Tree t(0.0);
  EXPECT_EQ(names_of(t.named_parameters()),
            (std::vector<std::string>{"bias", "left.w", "left.frozen", "list.0.w", "list.0.frozen",
                                      "list.1.w", "list.1.frozen"}));
  EXPECT_EQ(names_of(t.named_parameters(/*recurse=*/false)), std::vector<std::string>{"bias"});
  EXPECT_EQ(names_of(t.named_buffers()),
            (std::vector<std::string>{"left.count", "list.0.count", "list.1.count"}));
  // state_dict: each module's parameters, then its buffers, then its children.
  EXPECT_EQ(names_of(t.state_dict()),
            (std::vector<std::string>{"bias", "left.w", "left.frozen", "left.count", "list.0.w",
                                      "list.0.frozen", "list.0.count", "list.1.w", "list.1.frozen",
                                      "list.1.count"}));
  std::vector<std::string> modules;
  for (const auto& [n, m] : t.named_modules()) modules.push_back(n + ":" + m->type_name());
  EXPECT_EQ(modules, (std::vector<std::string>{":Tree", "left:Leaf", "list:ModuleList",
                                               "list.0:Leaf", "list.1:Leaf"}));
  ASSERT_EQ(t.named_children().size(), 2u);
  // The handles alias the registered tensors.
  EXPECT_TRUE(t.named_parameters()[1].second.is_same(t.left->w));
  EXPECT_TRUE(t.left->w.requires_grad());
  EXPECT_FALSE(t.left->frozen.requires_grad());
}

TEST(ModuleTest, TransformerParameterNames) {
  Generator gen(1);
  Transformer model(tiny_config(), gen);
  const auto names = names_of(model.named_parameters());
  for (const char* expected :
       {"blocks.0.attn_norm.weight", "blocks.3.attn.q.weight", "blocks.3.attn.k.weight",
        "blocks.3.attn.v.weight", "blocks.3.attn.o.weight", "blocks.3.ffn_norm.weight",
        "blocks.3.ffn.w1.weight", "blocks.3.ffn.w2.weight", "blocks.3.ffn.w3.weight",
        "norm.weight"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  EXPECT_EQ(names.front(), "blocks.0.attn_norm.weight");
  EXPECT_EQ(names.back(), "norm.weight");
  EXPECT_EQ(model.named_parameters().size(), 4u * 9u + 1u);
  EXPECT_NE(model.ToString().find("blocks.3.attn.q: Linear weight[8, 8]"), std::string::npos)
      << model.ToString();
}

TEST(ModuleTest, RegistrationErrors) {
  Tree t(0.0);
  EXPECT_THROW(t.add_param("bias"), Error);  // taken by a parameter
  EXPECT_THROW(t.add_param("left"), Error);  // taken by a child
  EXPECT_THROW(t.add_param("a.b"), Error);   // dots would make names ambiguous
  EXPECT_THROW(t.add_param(""), Error);
  EXPECT_NO_THROW(t.add_param("extra"));
}

TEST(ModuleTest, NumParametersAndFreezing) {
  Tree t(0.0);
  // bias 3 + three leaves of (w 6 + frozen 4).
  EXPECT_EQ(t.num_parameters(), 3 + 3 * 10);
  EXPECT_EQ(t.num_parameters(/*trainable_only=*/true), 3 + 3 * 6);
  t.left->requires_grad(false);
  EXPECT_EQ(t.num_parameters(true), 3 + 2 * 6);
  t.requires_grad(true);
  EXPECT_EQ(t.num_parameters(true), 3 + 3 * 10);
  EXPECT_EQ(t.num_parameters(), 33);  // buffers are not parameters

  Generator gen(3);
  const TransformerConfig c = tiny_config();
  Transformer model(c, gen);
  // Per block: 2 RMSNorm weights (8 each), q,k,v,o (64 each), SwiGLU 3 x 8 x 16; final norm 8.
  EXPECT_EQ(model.num_parameters(), 4 * (2 * 8 + 4 * 64 + 3 * 128) + 8);
}

TEST(ModuleTest, TrainEvalPropagatesToEveryDescendant) {
  Generator gen(1);
  Transformer model(tiny_config(), gen);
  auto all_training = [&](bool expected) {
    for (const auto& [name, m] : model.named_modules()) {
      if (m->is_training() != expected) return false;
    }
    return true;
  };
  EXPECT_TRUE(all_training(true));
  model.eval();
  EXPECT_TRUE(all_training(false));
  EXPECT_FALSE(model.block(2).dropout->is_training());
  model.train();
  EXPECT_TRUE(all_training(true));
  model.block(1).eval();  // a subtree can differ from its parent
  EXPECT_FALSE(model.block(1).attn->is_training());
  EXPECT_TRUE(model.block(0).attn->is_training());
}

TEST(ModuleTest, StateDictRoundTripThroughSafetensorsIntoFreshModel) {
  ScratchDir dir;
  const std::string path = dir.file("model.safetensors");
  Generator g1(1), g2(2);
  Transformer a(tiny_config(), g1), b(tiny_config(), g2);
  a.eval();
  b.eval();
  const Tensor x = testing::uniform({2, 5, 8}, -1, 1, DType::kF32);
  ASSERT_FALSE(AllClose(a.forward(x).y, b.forward(x).y));  // different seeds, different models

  ASSERT_TRUE(a.save(path, {{"step", "12"}}).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->names().size(), a.state_dict().size());

  const absl::Status loaded = b.load(path);
  ASSERT_TRUE(loaded.ok()) << loaded;
  const auto sa = a.state_dict(), sb = b.state_dict();
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(BitwiseEqual(sa[i].second, sb[i].second)) << sa[i].first;
  }
  EXPECT_TRUE(BitwiseEqual(a.forward(x).y, b.forward(x).y));
}

TEST(ModuleTest, LoadStateDictConvertsDtypeAndKeepsHandles) {
  Generator gen(5);
  Linear src(3, 2, gen, {.bias = true, .init_std = {}, .dtype = DType::kF64});
  Linear dst(3, 2, gen);
  const Tensor handle = dst.weight;
  std::map<std::string, Tensor> state;
  for (const auto& [n, t] : src.state_dict()) state[n] = t;
  ASSERT_TRUE(dst.load_state_dict(state).ok());
  EXPECT_EQ(dst.weight.dtype(), DType::kF32);  // the model keeps its dtype
  EXPECT_TRUE(handle.is_same(dst.weight));
  EXPECT_TRUE(AllClose(dst.weight, src.weight, 1e-7, 1e-6));
  EXPECT_TRUE(dst.weight.requires_grad());
}

TEST(ModuleTest, StrictLoadReportsEveryProblemAtOnce) {
  Tree t(0.0);
  std::map<std::string, Tensor> state;
  for (const auto& [n, v] : t.state_dict()) state[n] = v.clone();
  state.erase("left.w");                      // missing
  state.erase("list.1.count");                // missing buffer
  state["list.0.w"] = Tensor::zeros({3, 2});  // shape mismatch
  state["left.extra"] = Tensor::zeros({1});   // unexpected
  state["bias"] = Tensor::full({3}, 9.0);     // fine: loaded even though others fail
  const absl::Status s = t.load_state_dict(state);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(s.message());
  for (const char* part :
       {"missing 'left.w'", "missing 'list.1.count'", "'list.0.w' has shape [3, 2]",
        "expects [2, 3]", "unexpected 'left.extra'"}) {
    EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
  }
  EXPECT_TRUE(AllClose(t.list->operator[](0)->named_parameters()[0].second,
                       Tensor::full({2, 3}, 2.0)));  // the mismatched tensor is untouched

  // Non-strict ignores missing and unexpected names but still rejects a wrong shape.
  Tree u(0.0);
  const absl::Status lenient = u.load_state_dict(state, /*strict=*/false);
  ASSERT_FALSE(lenient.ok());
  const std::string lmsg(lenient.message());
  EXPECT_EQ(lmsg.find("missing"), std::string::npos) << lmsg;
  EXPECT_EQ(lmsg.find("unexpected"), std::string::npos) << lmsg;
  EXPECT_NE(lmsg.find("'list.0.w' has shape"), std::string::npos) << lmsg;
  state.erase("list.0.w");
  EXPECT_TRUE(u.load_state_dict(state, false).ok());
  EXPECT_TRUE(AllClose(u.bias, Tensor::full({3}, 9.0)));
  EXPECT_TRUE(AllClose(u.left->w, Tensor::full({2, 3}, 1.0)));  // missing: left as it was
}

TEST(ModuleTest, LoadNamesTheFileOnError) {
  ScratchDir dir;
  Tree t(0.0);
  Leaf other(1.0);
  ASSERT_TRUE(other.save(dir.file("leaf.safetensors")).ok());
  const absl::Status s = t.load(dir.file("leaf.safetensors"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("leaf.safetensors"), std::string::npos);
  EXPECT_FALSE(t.load(dir.file("absent.safetensors")).ok());
}

TEST(ModuleTest, ToBf16KeepsHandlesValid) {
  Generator gen(9);
  Linear lin(4, 3, gen);
  const Tensor w_handle = lin.weight;
  // clone() of a parameter records a graph that stays alive here, holding the weight's
  // gradient accumulator: to() must not let new graphs reuse it (it would cast to f32).
  const Tensor w_before = lin.weight.clone();
  const Tensor x = testing::uniform({2, 4}, -1, 1, DType::kF32);
  lin.forward(x).backward(Tensor::ones({2, 3}));
  ASSERT_TRUE(lin.weight.grad().defined());

  lin.to(DType::kBF16);
  EXPECT_EQ(lin.weight.dtype(), DType::kBF16);
  EXPECT_EQ(w_handle.dtype(), DType::kBF16);  // every handle sees the conversion
  EXPECT_EQ(lin.named_parameters()[0].second.dtype(), DType::kBF16);
  EXPECT_TRUE(lin.named_parameters()[0].second.is_same(lin.weight));
  EXPECT_TRUE(lin.weight.requires_grad());
  EXPECT_TRUE(lin.weight.is_leaf());
  EXPECT_FALSE(lin.weight.grad().defined());  // a stale f32 gradient would not fit
  EXPECT_TRUE(AllClose(lin.weight, w_before, 0, 1.0 / 128));

  // The converted module still trains: gradients arrive in the new dtype.
  Tensor y = lin.forward(x.to(DType::kBF16));
  EXPECT_EQ(y.dtype(), DType::kBF16);
  y.backward(Tensor::ones({2, 3}, DType::kBF16));
  ASSERT_TRUE(lin.weight.grad().defined());
  EXPECT_EQ(lin.weight.grad().dtype(), DType::kBF16);

  lin.to(DType::kF32);
  EXPECT_EQ(w_handle.dtype(), DType::kF32);
  EXPECT_TRUE(AllClose(lin.weight, w_before, 0, 1.0 / 128));
}

TEST(ModuleTest, ToLeavesIntegerBuffersAlone) {
  Leaf leaf(1.0);
  leaf.to(DType::kF64);
  EXPECT_EQ(leaf.w.dtype(), DType::kF64);
  EXPECT_EQ(leaf.frozen.dtype(), DType::kF64);
  EXPECT_EQ(leaf.count.dtype(), DType::kI64);
  EXPECT_FALSE(leaf.frozen.requires_grad());
}

TEST(ModuleTest, ZeroGradDropsEveryGradient) {
  Generator gen(2);
  Linear lin(3, 3, gen);
  lin.forward(testing::uniform({1, 3}, -1, 1, DType::kF32)).backward(Tensor::ones({1, 3}));
  ASSERT_TRUE(lin.weight.grad().defined() && lin.bias.grad().defined());
  lin.zero_grad();
  EXPECT_FALSE(lin.weight.grad().defined());
  EXPECT_FALSE(lin.bias.grad().defined());
}

}  // namespace
}  // namespace chorus::nn
