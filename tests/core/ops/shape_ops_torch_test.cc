// Shape, indexing, sorting and scan ops against values computed by PyTorch 1.13
// (tests/fixtures/shape_ops.json, written by tools/fixtures/shape_ops.py), forward and
// backward. topk inputs avoid ties: PyTorch's CPU topk does not promise an order among equal
// values, while ours takes the lower index first.
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/ops/index.h"
#include "core/ops/join.h"
#include "core/ops/scan.h"
#include "core/ops/sort.h"
#include "test_util.h"

namespace chorus {
namespace {

using json = nlohmann::json;
using testing::AllClose;

const json& cases() {
  static const json j = [] {
    std::ifstream in(std::string(CHORUS_FIXTURE_DIR) + "/shape_ops.json");
    EXPECT_TRUE(in.good()) << "missing fixture; run tools/fixtures/shape_ops.py";
    return json::parse(in);
  }();
  return j.at("cases");
}

// {"dtype", "shape", "data"} -> Tensor; null stands for NaN.
Tensor load(const json& j) {
  const DType dtype = *dtype_from_name(j.at("dtype").get<std::string>());
  const Shape shape = j.at("shape").get<Shape>();
  if (dtype == DType::kI64) {
    return Tensor::from_vector<int64_t>(j.at("data").get<std::vector<int64_t>>(), shape);
  }
  std::vector<double> v;
  for (const json& e : j.at("data")) {
    v.push_back(e.is_null() ? std::numeric_limits<double>::quiet_NaN() : e.get<double>());
  }
  return Tensor::from_doubles(v, shape, dtype);
}

// Same shape, dtype and values (integers exactly, floats to 1e-12; NaN equals NaN).
::testing::AssertionResult Same(const Tensor& got, const json& want) {
  const Tensor w = load(want);
  if (got.dtype() != w.dtype()) {
    return ::testing::AssertionFailure()
           << "dtype " << dtype_name(got.dtype()) << " vs " << dtype_name(w.dtype());
  }
  if (!is_floating(w.dtype())) {
    if (got.shape() != w.shape()) return AllClose(got, w);
    if (got.to_vector<int64_t>() == w.to_vector<int64_t>()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "integer values differ";
  }
  return AllClose(got, w, 1e-12, 1e-12);
}

// Backward of `out` seeded with the fixture's grad_out.
void backward_with(const Tensor& out, const json& c) { out.backward(load(c.at("grad_out"))); }

Tensor leaf(const json& j) {
  Tensor t = load(j);
  t.set_requires_grad();
  return t;
}

TEST(TorchReference, ConcatStackChunk) {
  const json& c = cases().at("concat");
  EXPECT_TRUE(Same(concat({load(c["a"]), load(c["b"])}, 0), c["ab_dim0"]));
  EXPECT_TRUE(Same(concat({load(c["a"]), load(c["c"])}, -1), c["ac_dim1"]));
  const json& m = cases().at("concat_mixed");
  EXPECT_TRUE(Same(concat({load(m["i"]), load(m["b"])}), m["out"]));
  const json& s = cases().at("stack");
  std::vector<Tensor> in;
  for (const json& t : s["inputs"]) in.push_back(load(t));
  EXPECT_TRUE(Same(stack(in, 1), s["dim1"]));
  EXPECT_TRUE(Same(stack(in, -1), s["dim_last"]));
  for (const json& k : cases().at("chunk_sizes")) {
    std::vector<int64_t> sizes;
    for (const Tensor& p : chunk(Tensor::zeros({k["n"].get<int64_t>()}), k["chunks"])) {
      sizes.push_back(p.size(0));
    }
    EXPECT_EQ(sizes, k["sizes"].get<std::vector<int64_t>>()) << k.dump();
  }
}

TEST(TorchReference, GatherScatterIndexSelectOneHot) {
  const json& g = cases().at("gather_dim1");
  Tensor x = leaf(g["x"]);
  Tensor out = gather(x, 1, load(g["index"]));
  EXPECT_TRUE(Same(out, g["out"]));
  backward_with(out, g);
  EXPECT_TRUE(Same(x.grad(), g["grad_x"]));
  const json& g3 = cases().at("gather_3d");
  EXPECT_TRUE(Same(gather(load(g3["x"]), 1, load(g3["index"])), g3["out"]));

  const json& s = cases().at("scatter_add_dim0");
  Tensor base = leaf(s["x"]), src = leaf(s["src"]);
  Tensor sum = scatter_add(base, 0, load(s["index"]), src);
  EXPECT_TRUE(Same(sum, s["out"]));
  backward_with(sum, s);
  EXPECT_TRUE(Same(base.grad(), s["grad_x"]));
  EXPECT_TRUE(Same(src.grad(), s["grad_src"]));

  const json& i = cases().at("index_select_dim1");
  Tensor xs = leaf(i["x"]);
  Tensor sel = index_select(xs, 1, load(i["index"]));
  EXPECT_TRUE(Same(sel, i["out"]));
  backward_with(sel, i);
  EXPECT_TRUE(Same(xs.grad(), i["grad_x"]));

  const json& o = cases().at("one_hot");
  EXPECT_TRUE(Same(one_hot(load(o["indices"]), 4), o["out"]));
}

TEST(TorchReference, TopkSortCumsum) {
  const json& t = cases().at("topk");
  Tensor x = load(t["x"]);
  ValuesIndices top = topk(x, 3, 1);
  EXPECT_TRUE(Same(top.values, t["largest_values"]));
  EXPECT_TRUE(Same(top.indices, t["largest_indices"]));
  ValuesIndices low = topk(x, 2, 1, /*largest=*/false);
  EXPECT_TRUE(Same(low.values, t["smallest_values"]));
  EXPECT_TRUE(Same(low.indices, t["smallest_indices"]));
  const json& tg = cases().at("topk_grad");
  Tensor xg = leaf(tg["x"]);
  backward_with(topk(xg, 2, 0).values, tg);
  EXPECT_TRUE(Same(xg.grad(), tg["grad_x"]));

  const json& s = cases().at("sort");
  Tensor sx = load(s["x"]);
  ValuesIndices asc = sort(sx, 1, false, true);
  EXPECT_TRUE(Same(asc.values, s["asc_values"]));
  EXPECT_TRUE(Same(asc.indices, s["asc_indices"]));
  ValuesIndices desc = sort(sx, 1, true, true);
  EXPECT_TRUE(Same(desc.values, s["desc_values"]));
  EXPECT_TRUE(Same(desc.indices, s["desc_indices"]));
  ValuesIndices col = sort(sx, 0, true, true);
  EXPECT_TRUE(Same(col.values, s["dim0_desc_values"]));
  EXPECT_TRUE(Same(col.indices, s["dim0_desc_indices"]));
  const json& si = cases().at("sort_i32");
  ValuesIndices is = sort(load(si["x"]), 0, false, true);
  EXPECT_TRUE(Same(is.values, si["values"]));
  EXPECT_TRUE(Same(is.indices, si["indices"]));

  const json& c = cases().at("cumsum");
  Tensor cx = leaf(c["x"]);
  Tensor c0 = cumsum(cx, 0);
  EXPECT_TRUE(Same(c0, c["dim0"]));
  EXPECT_TRUE(Same(cumsum(cx.detach(), 1), c["dim1"]));
  backward_with(c0, c);
  EXPECT_TRUE(Same(cx.grad(), c["grad_x_dim0"]));
  const json& ci = cases().at("cumsum_i32");
  EXPECT_TRUE(Same(cumsum(load(ci["x"]), 1), ci["dim1"]));
}

}  // namespace
}  // namespace chorus
