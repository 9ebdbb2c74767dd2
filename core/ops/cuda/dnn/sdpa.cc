// cuDNN SDPA graphs (see sdpa.h). The graph mirrors the one cuDNN documents for its fused
// flash-attention engines: the engines pattern-match it, so the order of the operations, the
// virtual tensors' types and the by-value scalars matter as much as the arithmetic.
#include "core/ops/cuda/dnn/sdpa.h"

#include <cuda_runtime.h>

#include <limits>
#include <map>
#include <mutex>
#include <tuple>

#include "core/ops/cuda/dnn/cudnn_graph.h"
#include "core/tensor/error.h"

namespace chorus::cuda::dnn {
namespace {

using Dims = std::vector<int64_t>;

cudnnDataType_t io_type(DType t) {
  return t == DType::kBF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
}

std::string problem_str(const char* op, const SdpaProblem& p) {
  return detail::concat(op, " [b=", p.b, ", h=", p.h, ", s_q=", p.s_q, ", s_kv=", p.s_kv,
                        ", d=", p.d, ", d_v=", p.d_v, ", ", dtype_name(p.dtype),
                        p.causal ? ", causal" : "", p.padding ? ", key padding" : "", "]");
}

Dims vec(const std::array<int64_t, 4>& a) { return Dims(a.begin(), a.end()); }
// K given as [b, h, s_kv, d] seen as Kᵀ [b, h, d, s_kv]: swap the last two dims' strides.
Dims transposed(const std::array<int64_t, 4>& a) { return Dims{a[0], a[1], a[3], a[2]}; }

struct Key {
  int device;
  bool backward;
  SdpaProblem p;
  auto tie() const {
    return std::tie(device, backward, p.b, p.h, p.s_q, p.s_kv, p.d, p.d_v, p.dtype, p.scale,
                    p.causal, p.padding, p.q, p.k, p.v, p.o, p.dout, p.dq, p.dk, p.dv);
  }
  bool operator<(const Key& o) const { return tie() < o.tie(); }
};

// uids of the tensors the caller binds, in a fixed order per direction.
enum Slot { kQ, kK, kV, kO, kStats, kSeqQ, kSeqKV, kDO, kDQ, kDK, kDV, kDQAcc, kSlots };

struct SdpaPlan {
  std::unique_ptr<GraphBuilder::Plan> plan;
  int64_t uid[kSlots] = {};
  bool bound[kSlots] = {};
  // The last variant pack and what it binds: training loops call with the same buffers again
  // and again (the caching allocator hands them back), so the pack is rebuilt only on change.
  Desc pack;
  std::vector<std::pair<int64_t, void*>> pack_bindings;
  void* pack_workspace = nullptr;
};

// Score-shaped helpers shared by both graphs.
struct Scores {
  GraphBuilder& g;
  Dims dims, strides;
  int virt(cudnnDataType_t t = CUDNN_DATA_FLOAT) { return g.virt(dims, strides, t); }
  int index(int like, int64_t axis) {
    return g.pointwise(CUDNN_POINTWISE_GEN_INDEX, like, virt(CUDNN_DATA_INT32), -1, -1,
                       CUDNN_DATA_INT32, axis);
  }
  // keeps the score where `mask` holds, the lowest float elsewhere
  int select(int scores, int mask) {
    const int low = g.scalar(std::numeric_limits<float>::lowest());
    return g.pointwise(CUDNN_POINTWISE_BINARY_SELECT, scores, virt(), low, mask);
  }
  int padding(int s, int seq_q, int seq_kv, cudnnDataType_t cmp_type) {
    const int row = index(s, 2), col = index(s, 3);
    const cudnnDataType_t cmp_math =
        cmp_type == CUDNN_DATA_INT32 ? CUDNN_DATA_INT32 : CUDNN_DATA_BOOLEAN;
    const int row_ok =
        g.pointwise(CUDNN_POINTWISE_CMP_LT, row, virt(cmp_type), seq_q, -1, cmp_math);
    const int col_ok =
        g.pointwise(CUDNN_POINTWISE_CMP_LT, col, virt(cmp_type), seq_kv, -1, cmp_math);
    const int both = g.pointwise(CUDNN_POINTWISE_LOGICAL_AND, row_ok, virt(CUDNN_DATA_BOOLEAN),
                                 col_ok, -1, CUDNN_DATA_BOOLEAN);
    return select(s, both);
  }
  int causal(int s) {
    const int row = index(s, 2), col = index(s, 3);
    const int keep = g.pointwise(CUDNN_POINTWISE_CMP_GE, row, virt(CUDNN_DATA_BOOLEAN), col, -1,
                                 CUDNN_DATA_BOOLEAN);
    return select(s, keep);
  }
};

SdpaPlan build_forward(const SdpaProblem& p, cudnnHandle_t handle, const std::string& what) {
  GraphBuilder g(what);
  const cudnnDataType_t io = io_type(p.dtype);
  const int64_t b = p.b, h = p.h, sq = p.s_q, skv = p.s_kv;
  SdpaPlan out;
  const int q = g.tensor({b, h, sq, p.d}, vec(p.q), io);
  const int kt = g.tensor({b, h, p.d, skv}, transposed(p.k), io);
  const int v = g.tensor({b, h, skv, p.d_v}, vec(p.v), io);
  const int o = g.tensor({b, h, sq, p.d_v}, vec(p.o), io);
  const Dims stat_dims{b, h, sq, 1}, stat_strides{h * sq, sq, 1, 1};
  const int stats = g.tensor(stat_dims, stat_strides, CUDNN_DATA_FLOAT);
  int seq_q = -1, seq_kv = -1;
  if (p.padding) {
    seq_q = g.tensor({b, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_INT32);
    seq_kv = g.tensor({b, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_INT32);
  }
  Scores sc{g, {b, h, sq, skv}, {h * sq * skv, sq * skv, skv, 1}};
  int s = g.matmul(q, kt, sc.virt(), seq_q, seq_kv, -1, p.padding);
  s = g.pointwise(CUDNN_POINTWISE_MUL, s, sc.virt(), g.scalar(p.scale));
  if (p.padding) s = sc.padding(s, seq_q, seq_kv, CUDNN_DATA_INT32);
  if (p.causal) s = sc.causal(s);
  // softmax with its statistics (max + log Σ exp) kept for the backward pass
  const int mx = g.reduction(CUDNN_REDUCE_TENSOR_MAX, s, g.virt(stat_dims, stat_strides));
  const int sub = g.pointwise(CUDNN_POINTWISE_SUB, s, sc.virt(), mx);
  const int ex = g.pointwise(CUDNN_POINTWISE_EXP, sub, sc.virt());
  const int sum = g.reduction(CUDNN_REDUCE_TENSOR_ADD, ex, g.virt(stat_dims, stat_strides));
  const int lg = g.pointwise(CUDNN_POINTWISE_LOG, sum, g.virt(stat_dims, stat_strides));
  g.pointwise(CUDNN_POINTWISE_ADD, mx, stats, lg);
  const int prob = g.pointwise(CUDNN_POINTWISE_DIV, ex, sc.virt(io), sum);
  g.matmul(prob, v, o, seq_q, -1, seq_kv);

  out.uid[kQ] = g.uid(q), out.uid[kK] = g.uid(kt), out.uid[kV] = g.uid(v), out.uid[kO] = g.uid(o);
  out.uid[kStats] = g.uid(stats);
  for (Slot sl : {kQ, kK, kV, kO, kStats}) out.bound[sl] = true;
  if (p.padding) {
    out.uid[kSeqQ] = g.uid(seq_q), out.uid[kSeqKV] = g.uid(seq_kv);
    out.bound[kSeqQ] = out.bound[kSeqKV] = true;
  }
  out.plan = g.build(handle);
  return out;
}

SdpaPlan build_backward(const SdpaProblem& p, cudnnHandle_t handle, const std::string& what) {
  GraphBuilder g(what);
  const cudnnDataType_t io = io_type(p.dtype);
  const int64_t b = p.b, h = p.h, sq = p.s_q, skv = p.s_kv, d = p.d, dv = p.d_v;
  SdpaPlan out;
  const int q = g.tensor({b, h, sq, d}, vec(p.q), io);
  const int kt = g.tensor({b, h, d, skv}, transposed(p.k), io);
  const int vt = g.tensor({b, h, dv, skv}, transposed(p.v), io);
  const int o = g.tensor({b, h, sq, dv}, vec(p.o), io);
  const int dout = g.tensor({b, h, sq, dv}, vec(p.dout), io);
  const Dims stat_dims{b, h, sq, 1}, stat_strides{h * sq, sq, 1, 1};
  const int stats = g.tensor(stat_dims, stat_strides, CUDNN_DATA_FLOAT);
  const int dq = g.tensor({b, h, sq, d}, vec(p.dq), io);
  const int dk = g.tensor({b, h, skv, d}, vec(p.dk), io);
  const int dvt = g.tensor({b, h, skv, dv}, vec(p.dv), io);
  // dQ is accumulated in f32 by the engine (zeroed before each run), then converted.
  const int dq_acc = g.tensor({b, h, sq, d}, {h * sq * d, sq * d, d, 1}, CUDNN_DATA_FLOAT,
                              CUDNN_TENSOR_REORDERING_F16x16);
  int seq_q = -1, seq_kv = -1;
  if (p.padding) {
    seq_q = g.tensor({b, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_INT32);
    seq_kv = g.tensor({b, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_INT32);
  }
  const int one = g.scalar(1.f);
  const int scale = g.scalar(p.scale);

  // softmax_sum = Σ_dv dO·O per row
  int x = g.pointwise(CUDNN_POINTWISE_MUL, dout,
                      g.virt({b, h, sq, dv}, {h * sq * dv, sq * dv, h * dv, 1}), o);
  x = g.reduction(CUDNN_REDUCE_TENSOR_ADD, x, g.virt(stat_dims, stat_strides));
  const int softmax_sum = g.pointwise(CUDNN_POINTWISE_MUL, x, g.virt(stat_dims, stat_strides), one);

  // P recomputed from the saved statistics
  Scores sc{g, {b, h, sq, skv}, {h * sq * skv, sq * skv, skv, 1}};
  int s = g.matmul(q, kt, sc.virt(), seq_q, seq_kv);
  s = g.pointwise(CUDNN_POINTWISE_MUL, s, sc.virt(), scale);
  if (p.padding) s = sc.padding(s, seq_q, seq_kv, CUDNN_DATA_BOOLEAN);
  if (p.causal) s = sc.causal(s);
  s = g.pointwise(CUDNN_POINTWISE_SUB, s, sc.virt(), stats);
  if (p.padding) s = sc.padding(s, seq_q, seq_kv, CUDNN_DATA_BOOLEAN);
  const int prob = g.pointwise(CUDNN_POINTWISE_EXP, s, sc.virt());

  const Dims t_dims{b, h, skv, sq}, t_strides{h * sq * skv, sq * skv, 1, skv};
  // dV = Pᵀ · dO
  const int prob_t = g.reshape(prob, g.virt(t_dims, t_strides, io));
  g.matmul(prob_t, dout, dvt, seq_kv, -1, seq_q);
  // dS = P ∘ (dO·Vᵀ − softmax_sum) · scale
  int dp = g.matmul(dout, vt, sc.virt(), seq_q, seq_kv);
  dp = g.pointwise(CUDNN_POINTWISE_MUL, dp, sc.virt(), one);
  dp = g.pointwise(CUDNN_POINTWISE_SUB, dp, sc.virt(), softmax_sum);
  dp = g.pointwise(CUDNN_POINTWISE_MUL, dp, sc.virt(), prob);
  const int ds = g.pointwise(CUDNN_POINTWISE_MUL, dp, sc.virt(), scale);
  // dK = dSᵀ · Q
  const int ds_t = g.reshape(ds, g.virt(t_dims, t_strides, io));
  g.matmul(ds_t, q, dk, seq_kv, -1, seq_q);
  // dQ = dS · K
  const int k_rows = g.reshape(kt, g.virt({b, h, skv, d}, vec(p.k)));
  g.matmul(ds, k_rows, dq_acc, seq_q, -1, seq_kv);
  g.pointwise(CUDNN_POINTWISE_IDENTITY, dq_acc, dq);

  out.uid[kQ] = g.uid(q), out.uid[kK] = g.uid(kt), out.uid[kV] = g.uid(vt);
  out.uid[kO] = g.uid(o), out.uid[kStats] = g.uid(stats), out.uid[kDO] = g.uid(dout);
  out.uid[kDQ] = g.uid(dq), out.uid[kDK] = g.uid(dk), out.uid[kDV] = g.uid(dvt);
  out.uid[kDQAcc] = g.uid(dq_acc);
  for (Slot sl : {kQ, kK, kV, kO, kStats, kDO, kDQ, kDK, kDV, kDQAcc}) out.bound[sl] = true;
  if (p.padding) {
    out.uid[kSeqQ] = g.uid(seq_q), out.uid[kSeqKV] = g.uid(seq_kv);
    out.bound[kSeqQ] = out.bound[kSeqKV] = true;
  }
  out.plan = g.build(handle);
  return out;
}

std::mutex g_plans_mu;
std::map<Key, std::shared_ptr<SdpaPlan>> g_plans;

std::shared_ptr<SdpaPlan> get_plan(const SdpaProblem& p, bool backward, cudnnHandle_t handle,
                                   const std::string& what) {
  int dev = 0;
  cudaGetDevice(&dev);
  Key key{dev, backward, p};
  if (!backward) key.p.dout = key.p.dq = key.p.dk = key.p.dv = {};
  std::lock_guard<std::mutex> lock(g_plans_mu);
  auto it = g_plans.find(key);
  if (it != g_plans.end()) return it->second;
  auto plan = std::make_shared<SdpaPlan>(backward ? build_backward(p, handle, what)
                                                  : build_forward(p, handle, what));
  g_plans.emplace(key, plan);
  return plan;
}

void run(SdpaPlan& plan, cudnnHandle_t handle, void* const* ptrs, cudaStream_t stream,
         size_t extra_bytes, int extra_slot, const std::string& what) {
  const size_t ws = static_cast<size_t>(plan.plan->workspace);
  const size_t ws_rounded = (ws + 255) & ~size_t{255};
  char* base = static_cast<char*>(scratch(stream, ws_rounded + extra_bytes + 256, what));
  std::vector<std::pair<int64_t, void*>> bindings;
  for (int s = 0; s < kSlots; ++s) {
    if (!plan.bound[s]) continue;
    void* ptr = ptrs[s];
    if (s == extra_slot) {
      ptr = base + ws_rounded;
      const cudaError_t st = cudaMemsetAsync(ptr, 0, extra_bytes, stream);
      CHORUS_CHECK(st == cudaSuccess, what, ": cudaMemsetAsync failed: ", cudaGetErrorString(st));
    }
    bindings.emplace_back(plan.uid[s], ptr);
  }
  void* workspace = ws > 0 ? base : nullptr;
  if (plan.pack.get() == nullptr || bindings != plan.pack_bindings ||
      workspace != plan.pack_workspace) {
    plan.pack = make_variant_pack(*plan.plan, bindings, workspace, what);
    plan.pack_bindings = bindings;
    plan.pack_workspace = workspace;
  }
  execute(handle, *plan.plan, plan.pack, what);
}

void validate(const SdpaProblem& p, const char* op) {
  CHORUS_CHECK(p.dtype == DType::kBF16 || p.dtype == DType::kF16, problem_str(op, p),
               ": the fused cuDNN path takes bf16 or f16");
  for (const auto* s : {&p.q, &p.k, &p.v, &p.o}) {
    CHORUS_CHECK((*s)[3] == 1, problem_str(op, p), ": the last dim must be dense");
  }
}

}  // namespace

bool sdpa_shape_supported(const SdpaProblem& p) {
  return (p.dtype == DType::kBF16 || p.dtype == DType::kF16) && p.d % 8 == 0 && p.d_v % 8 == 0 &&
         p.d > 0 && p.d <= 128 && p.d_v > 0 && p.d_v <= 128 && p.s_q > 0 && p.s_kv > 0 && p.b > 0 &&
         p.h > 0 && p.q[3] == 1 && p.k[3] == 1 && p.v[3] == 1 && p.o[3] == 1;
}

void sdpa_forward(const SdpaProblem& p, const void* q, const void* k, const void* v, void* o,
                  float* stats, const int32_t* seq_len_q, const int32_t* seq_len_kv,
                  cudaStream_t stream) {
  const std::string what = problem_str("scaled_dot_product_attention (cuDNN forward)", p);
  validate(p, "scaled_dot_product_attention (cuDNN forward)");
  auto lock = cudnn_lock();
  cudnnHandle_t handle = cudnn_handle(stream, what);
  auto plan = get_plan(p, false, handle, what);
  void* ptrs[kSlots] = {};
  ptrs[kQ] = const_cast<void*>(q), ptrs[kK] = const_cast<void*>(k);
  ptrs[kV] = const_cast<void*>(v), ptrs[kO] = o, ptrs[kStats] = stats;
  ptrs[kSeqQ] = const_cast<int32_t*>(seq_len_q), ptrs[kSeqKV] = const_cast<int32_t*>(seq_len_kv);
  run(*plan, handle, ptrs, stream, 0, -1, what);
}

void sdpa_backward(const SdpaProblem& p, const void* q, const void* k, const void* v, const void* o,
                   const void* dout, const float* stats, void* dq, void* dk, void* dv,
                   const int32_t* seq_len_q, const int32_t* seq_len_kv, cudaStream_t stream) {
  const std::string what = problem_str("scaled_dot_product_attention (cuDNN backward)", p);
  validate(p, "scaled_dot_product_attention (cuDNN backward)");
  auto lock = cudnn_lock();
  cudnnHandle_t handle = cudnn_handle(stream, what);
  auto plan = get_plan(p, true, handle, what);
  void* ptrs[kSlots] = {};
  ptrs[kQ] = const_cast<void*>(q), ptrs[kK] = const_cast<void*>(k);
  ptrs[kV] = const_cast<void*>(v), ptrs[kO] = const_cast<void*>(o);
  ptrs[kStats] = const_cast<float*>(stats), ptrs[kDO] = const_cast<void*>(dout);
  ptrs[kDQ] = dq, ptrs[kDK] = dk, ptrs[kDV] = dv;
  ptrs[kSeqQ] = const_cast<int32_t*>(seq_len_q), ptrs[kSeqKV] = const_cast<int32_t*>(seq_len_kv);
  const size_t acc_bytes = static_cast<size_t>(p.b * p.h * p.s_q * p.d) * sizeof(float);
  run(*plan, handle, ptrs, stream, acc_bytes, kDQAcc, what);
}

}  // namespace chorus::cuda::dnn
