// A small builder over the cuDNN backend (graph) API: tensors, pointwise/matmul/reduction/
// reshape operations, engine heuristics and an execution plan. cudnn_frontend (the header-only
// C++ layer NVIDIA ships beside cuDNN) is not installed here, so the fused attention graph is
// spelled out with these few calls instead (core/ops/cuda/dnn/sdpa.cc).
#pragma once

#include <cudnn.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chorus::cuda::dnn {

// Throws chorus::Error "<what>: <call> failed: <cuDNN status and last error message>".
void check_cudnn(cudnnStatus_t status, const std::string& what, const char* call);

// The cuDNN handle of the current device, bound to `stream`. Callers serialise on
// cudnn_lock() while they hold it (a handle has one stream at a time).
cudnnHandle_t cudnn_handle(cudaStream_t stream, const std::string& what);
std::unique_lock<std::mutex> cudnn_lock();

// Owns one backend descriptor.
class Desc {
 public:
  Desc() = default;
  Desc(cudnnBackendDescriptorType_t type, const std::string& what);
  Desc(Desc&& o) noexcept : d_(o.d_) { o.d_ = nullptr; }
  Desc& operator=(Desc&& o) noexcept;
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  ~Desc();
  cudnnBackendDescriptor_t get() const { return d_; }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};

// Builds one operation graph. Tensor handles are indices into the builder.
class GraphBuilder {
 public:
  explicit GraphBuilder(std::string what) : what_(std::move(what)) {}

  // A device tensor the caller binds at execution (its uid is returned by uid()).
  int tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
             cudnnDataType_t type,
             cudnnBackendTensorReordering_t reorder = CUDNN_TENSOR_REORDERING_NONE);
  // An intermediate that never reaches memory.
  int virt(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
           cudnnDataType_t type = CUDNN_DATA_FLOAT);
  // A [1, 1, 1, 1] f32 scalar passed by value; its value is bound by execute() itself.
  int scalar(float value);

  int pointwise(cudnnPointwiseMode_t mode, int x, int y, int b = -1, int t = -1,
                cudnnDataType_t math = CUDNN_DATA_FLOAT, int64_t axis = -1);
  int matmul(int a, int b, int c, int m_override = -1, int n_override = -1, int k_override = -1,
             bool padding = false);
  int reduction(cudnnReduceTensorOp_t op, int x, int y);
  int reshape(int x, int y);

  int64_t uid(int tensor) const { return tensors_.at(tensor).uid; }

  // Finalises the graph and the first engine configuration cuDNN's heuristic offers that
  // builds. Throws with the cuDNN message when none does.
  struct Plan {
    Desc graph, plan;
    int64_t workspace = 0;
    std::vector<int64_t> scalar_uids;
    std::vector<std::unique_ptr<float>> scalar_values;  // stable addresses for the variant pack
    std::string engine;                                 // for diagnostics
  };
  std::unique_ptr<Plan> build(cudnnHandle_t handle);

 private:
  struct T {
    Desc desc;
    int64_t uid;
  };
  int add_tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                 cudnnDataType_t type, bool is_virtual, bool by_value,
                 cudnnBackendTensorReordering_t reorder);
  cudnnBackendDescriptor_t td(int i) const { return tensors_.at(i).desc.get(); }

  std::string what_;
  std::vector<T> tensors_;
  std::vector<Desc> ops_, op_descs_;
  std::vector<std::pair<int64_t, float>> scalars_;
  int64_t next_uid_ = 1;
};

// The variant pack of one execution: (uid, device pointer) pairs plus the plan's scalars and
// the workspace. Packs can be kept and reused while the pointers stay the same.
Desc make_variant_pack(const GraphBuilder::Plan& plan,
                       const std::vector<std::pair<int64_t, void*>>& bindings, void* workspace,
                       const std::string& what);
void execute(cudnnHandle_t handle, const GraphBuilder::Plan& plan, const Desc& pack,
             const std::string& what);

// Runs a plan once (make_variant_pack + execute).
void execute(cudnnHandle_t handle, const GraphBuilder::Plan& plan,
             const std::vector<std::pair<int64_t, void*>>& bindings, void* workspace,
             const std::string& what);

// A grow-only device scratch buffer per device and stream (workspaces, accumulators).
void* scratch(cudaStream_t stream, size_t bytes, const std::string& what);

}  // namespace chorus::cuda::dnn
