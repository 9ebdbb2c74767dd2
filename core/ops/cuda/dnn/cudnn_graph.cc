// cuDNN backend-API builder (see cudnn_graph.h).
#include "core/ops/cuda/dnn/cudnn_graph.h"

#include <cuda_runtime.h>

#include <map>
#include <mutex>

#include "core/tensor/error.h"

// The graph's handle attribute is marked deprecated in cuDNN 9.x headers but is still how a
// graph and a plan learn their handle without the device-property descriptor.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace chorus::cuda::dnn {

void check_cudnn(cudnnStatus_t status, const std::string& what, const char* call) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  char message[1024] = {0};
  cudnnGetLastErrorString(message, sizeof(message));
  CHORUS_CHECK(false, what, ": ", call, " failed: ", cudnnGetErrorString(status),
               message[0] ? " (" : "", message, message[0] ? ")" : "");
}

namespace {
std::mutex g_handle_mu;
std::map<int, cudnnHandle_t> g_handles;
struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
};
std::mutex g_scratch_mu;
std::map<std::pair<int, cudaStream_t>, Scratch> g_scratch;

int current_device(const std::string& what) {
  int dev = 0;
  const cudaError_t st = cudaGetDevice(&dev);
  CHORUS_CHECK(st == cudaSuccess, what, ": cudaGetDevice failed: ", cudaGetErrorString(st));
  return dev;
}
}  // namespace

std::unique_lock<std::mutex> cudnn_lock() { return std::unique_lock<std::mutex>(g_handle_mu); }

cudnnHandle_t cudnn_handle(cudaStream_t stream, const std::string& what) {
  const int dev = current_device(what);
  cudnnHandle_t& h = g_handles[dev];
  if (h == nullptr) check_cudnn(cudnnCreate(&h), what, "cudnnCreate");
  check_cudnn(cudnnSetStream(h, stream), what, "cudnnSetStream");
  return h;
}

void* scratch(cudaStream_t stream, size_t bytes, const std::string& what) {
  std::lock_guard<std::mutex> lock(g_scratch_mu);
  Scratch& s = g_scratch[{current_device(what), stream}];
  if (s.bytes < bytes) {
    if (s.ptr != nullptr) {
      // Work queued on this stream may still use the old buffer.
      cudaStreamSynchronize(stream);
      cudaFree(s.ptr);
      s.ptr = nullptr;
      s.bytes = 0;
    }
    const size_t rounded = (bytes + (size_t{1} << 20) - 1) & ~((size_t{1} << 20) - 1);
    const cudaError_t st = cudaMalloc(&s.ptr, rounded);
    CHORUS_CHECK(st == cudaSuccess, what, ": cudaMalloc of ", rounded,
                 " bytes of cuDNN scratch failed: ", cudaGetErrorString(st));
    s.bytes = rounded;
  }
  return s.ptr;
}

Desc::Desc(cudnnBackendDescriptorType_t type, const std::string& what) {
  check_cudnn(cudnnBackendCreateDescriptor(type, &d_), what, "cudnnBackendCreateDescriptor");
}
Desc& Desc::operator=(Desc&& o) noexcept {
  if (this != &o) {
    if (d_) cudnnBackendDestroyDescriptor(d_);
    d_ = o.d_;
    o.d_ = nullptr;
  }
  return *this;
}
Desc::~Desc() {
  if (d_) cudnnBackendDestroyDescriptor(d_);
}

namespace {
void set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
         cudnnBackendAttributeType_t type, int64_t count, const void* value,
         const std::string& what) {
  check_cudnn(cudnnBackendSetAttribute(d, name, type, count, value), what,
              "cudnnBackendSetAttribute");
}
void finalize(cudnnBackendDescriptor_t d, const std::string& what, const char* which) {
  check_cudnn(cudnnBackendFinalize(d), what, which);
}
}  // namespace

int GraphBuilder::add_tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                             cudnnDataType_t type, bool is_virtual, bool by_value,
                             cudnnBackendTensorReordering_t reorder) {
  T t{Desc(CUDNN_BACKEND_TENSOR_DESCRIPTOR, what_), next_uid_++};
  const auto d = t.desc.get();
  const int64_t alignment = 16;
  set(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type, what_);
  set(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, static_cast<int64_t>(dims.size()),
      dims.data(), what_);
  set(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, static_cast<int64_t>(strides.size()),
      strides.data(), what_);
  set(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &t.uid, what_);
  set(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment, what_);
  set(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual, what_);
  if (by_value) set(d, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &by_value, what_);
  if (reorder != CUDNN_TENSOR_REORDERING_NONE) {
    set(d, CUDNN_ATTR_TENSOR_REORDERING_MODE, CUDNN_TYPE_TENSOR_REORDERING_MODE, 1, &reorder,
        what_);
  }
  finalize(d, what_, "cudnnBackendFinalize(tensor)");
  tensors_.push_back(std::move(t));
  return static_cast<int>(tensors_.size()) - 1;
}

int GraphBuilder::tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                         cudnnDataType_t type, cudnnBackendTensorReordering_t reorder) {
  return add_tensor(dims, strides, type, false, false, reorder);
}

int GraphBuilder::virt(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                       cudnnDataType_t type) {
  return add_tensor(dims, strides, type, true, false, CUDNN_TENSOR_REORDERING_NONE);
}

int GraphBuilder::scalar(float value) {
  const int t = add_tensor({1, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_FLOAT, false, true,
                           CUDNN_TENSOR_REORDERING_NONE);
  scalars_.emplace_back(uid(t), value);
  return t;
}

int GraphBuilder::pointwise(cudnnPointwiseMode_t mode, int x, int y, int b, int t,
                            cudnnDataType_t math, int64_t axis) {
  Desc pw(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, what_);
  set(pw.get(), CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, what_);
  set(pw.get(), CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &math, what_);
  if (axis >= 0) set(pw.get(), CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &axis, what_);
  finalize(pw.get(), what_, "cudnnBackendFinalize(pointwise)");
  Desc op(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, what_);
  auto pwd = pw.get();
  set(op.get(), CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
      &pwd, what_);
  auto xd = td(x), yd = td(y);
  set(op.get(), CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &xd, what_);
  if (b >= 0) {
    auto bd = td(b);
    set(op.get(), CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &bd,
        what_);
  }
  if (t >= 0) {
    auto tdd = td(t);
    set(op.get(), CUDNN_ATTR_OPERATION_POINTWISE_TDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &tdd,
        what_);
  }
  set(op.get(), CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &yd, what_);
  finalize(op.get(), what_, "cudnnBackendFinalize(pointwise op)");
  op_descs_.push_back(std::move(pw));
  ops_.push_back(std::move(op));
  return y;
}

int GraphBuilder::matmul(int a, int b, int c, int m_override, int n_override, int k_override,
                         bool padding) {
  Desc mm(CUDNN_BACKEND_MATMUL_DESCRIPTOR, what_);
  const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
  set(mm.get(), CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp, what_);
  if (padding) {
    const double pad = 0.0;
    set(mm.get(), CUDNN_ATTR_MATMUL_PADDING_VALUE, CUDNN_TYPE_DOUBLE, 1, &pad, what_);
  }
  finalize(mm.get(), what_, "cudnnBackendFinalize(matmul)");
  Desc op(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR, what_);
  auto ad = td(a), bd = td(b), cd = td(c), mmd = mm.get();
  set(op.get(), CUDNN_ATTR_OPERATION_MATMUL_ADESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &ad, what_);
  set(op.get(), CUDNN_ATTR_OPERATION_MATMUL_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &bd, what_);
  set(op.get(), CUDNN_ATTR_OPERATION_MATMUL_CDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cd, what_);
  set(op.get(), CUDNN_ATTR_OPERATION_MATMUL_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &mmd, what_);
  const std::pair<int, cudnnBackendAttributeName_t> overrides[] = {
      {m_override, CUDNN_ATTR_OPERATION_MATMUL_GEMM_M_OVERRIDE_DESC},
      {n_override, CUDNN_ATTR_OPERATION_MATMUL_GEMM_N_OVERRIDE_DESC},
      {k_override, CUDNN_ATTR_OPERATION_MATMUL_GEMM_K_OVERRIDE_DESC}};
  for (const auto& [t, name] : overrides) {
    if (t < 0) continue;
    auto od = td(t);
    set(op.get(), name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &od, what_);
  }
  finalize(op.get(), what_, "cudnnBackendFinalize(matmul op)");
  op_descs_.push_back(std::move(mm));
  ops_.push_back(std::move(op));
  return c;
}

int GraphBuilder::reduction(cudnnReduceTensorOp_t red, int x, int y) {
  Desc rd(CUDNN_BACKEND_REDUCTION_DESCRIPTOR, what_);
  const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
  set(rd.get(), CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &red, what_);
  set(rd.get(), CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp, what_);
  finalize(rd.get(), what_, "cudnnBackendFinalize(reduction)");
  Desc op(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR, what_);
  auto xd = td(x), yd = td(y), rdd = rd.get();
  set(op.get(), CUDNN_ATTR_OPERATION_REDUCTION_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &xd, what_);
  set(op.get(), CUDNN_ATTR_OPERATION_REDUCTION_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &yd, what_);
  set(op.get(), CUDNN_ATTR_OPERATION_REDUCTION_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &rdd, what_);
  finalize(op.get(), what_, "cudnnBackendFinalize(reduction op)");
  op_descs_.push_back(std::move(rd));
  ops_.push_back(std::move(op));
  return y;
}

int GraphBuilder::reshape(int x, int y) {
  Desc op(CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR, what_);
  auto xd = td(x), yd = td(y);
  set(op.get(), CUDNN_ATTR_OPERATION_RESHAPE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &xd, what_);
  set(op.get(), CUDNN_ATTR_OPERATION_RESHAPE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &yd, what_);
  finalize(op.get(), what_, "cudnnBackendFinalize(reshape op)");
  ops_.push_back(std::move(op));
  return y;
}

std::unique_ptr<GraphBuilder::Plan> GraphBuilder::build(cudnnHandle_t handle) {
  auto plan = std::make_unique<Plan>();
  plan->graph = Desc(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, what_);
  std::vector<cudnnBackendDescriptor_t> ops;
  for (const Desc& d : ops_) ops.push_back(d.get());
  set(plan->graph.get(), CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle, what_);
  set(plan->graph.get(), CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
      static_cast<int64_t>(ops.size()), ops.data(), what_);
  finalize(plan->graph.get(), what_, "cudnnBackendFinalize(operation graph)");

  Desc heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, what_);
  auto g = plan->graph.get();
  const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  set(heur.get(), CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &g,
      what_);
  set(heur.get(), CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, what_);
  finalize(heur.get(), what_, "cudnnBackendFinalize(engine heuristic)");
  int64_t count = 0;
  check_cudnn(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                       CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
              what_, "cudnnBackendGetAttribute(heuristic result count)");
  CHORUS_CHECK(count > 0, what_, ": cuDNN's heuristic offers no engine for this graph");
  std::vector<Desc> cfgs;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (int64_t i = 0; i < count; ++i) {
    cfgs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, what_);
    raw.push_back(cfgs.back().get());
  }
  int64_t got = 0;
  check_cudnn(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                       CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got, raw.data()),
              what_, "cudnnBackendGetAttribute(heuristic results)");
  std::string errors;
  for (int64_t i = 0; i < got; ++i) {
    Desc p(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, what_);
    auto cfg = raw[i];
    set(p.get(), CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle, what_);
    set(p.get(), CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg,
        what_);
    const cudnnStatus_t st = cudnnBackendFinalize(p.get());
    if (st != CUDNN_STATUS_SUCCESS) {
      char message[512] = {0};
      cudnnGetLastErrorString(message, sizeof(message));
      errors += detail::concat(" [config ", i, ": ", cudnnGetErrorString(st), " ", message, "]");
      continue;
    }
    check_cudnn(cudnnBackendGetAttribute(p.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                         CUDNN_TYPE_INT64, 1, &count, &plan->workspace),
                what_, "cudnnBackendGetAttribute(workspace size)");
    plan->plan = std::move(p);
    plan->engine = detail::concat("heuristic config ", i, " of ", got);
    for (const auto& [u, v] : scalars_) {
      plan->scalar_uids.push_back(u);
      plan->scalar_values.push_back(std::make_unique<float>(v));
    }
    return plan;
  }
  CHORUS_CHECK(false, what_, ": no cuDNN engine configuration builds:", errors);
  return nullptr;
}

Desc make_variant_pack(const GraphBuilder::Plan& plan,
                       const std::vector<std::pair<int64_t, void*>>& bindings, void* workspace,
                       const std::string& what) {
  std::vector<int64_t> uids;
  std::vector<void*> ptrs;
  for (const auto& [u, p] : bindings) {
    uids.push_back(u);
    ptrs.push_back(p);
  }
  for (size_t i = 0; i < plan.scalar_uids.size(); ++i) {
    uids.push_back(plan.scalar_uids[i]);
    ptrs.push_back(plan.scalar_values[i].get());
  }
  Desc pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, what);
  set(pack.get(), CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
      static_cast<int64_t>(uids.size()), uids.data(), what);
  set(pack.get(), CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
      static_cast<int64_t>(ptrs.size()), ptrs.data(), what);
  set(pack.get(), CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace, what);
  finalize(pack.get(), what, "cudnnBackendFinalize(variant pack)");
  return pack;
}

void execute(cudnnHandle_t handle, const GraphBuilder::Plan& plan, const Desc& pack,
             const std::string& what) {
  check_cudnn(cudnnBackendExecute(handle, plan.plan.get(), pack.get()), what,
              "cudnnBackendExecute");
}

void execute(cudnnHandle_t handle, const GraphBuilder::Plan& plan,
             const std::vector<std::pair<int64_t, void*>>& bindings, void* workspace,
             const std::string& what) {
  execute(handle, plan, make_variant_pack(plan, bindings, workspace, what), what);
}

}  // namespace chorus::cuda::dnn
