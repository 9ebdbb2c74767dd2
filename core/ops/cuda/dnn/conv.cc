// cuDNN convolutions (see conv.h), through cuDNN's convolution API: descriptors per problem,
// algorithms from the v7 heuristic, cached.
#include "core/ops/cuda/dnn/conv.h"

#include <cudnn.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/ops/cuda/dnn/cudnn_graph.h"
#include "core/tensor/error.h"

// cuDNN 9 marks this API deprecated in favour of the graph API; it remains supported and is
// the shortest path to every convolution algorithm cuDNN has.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace chorus::cuda::dnn {
namespace {

constexpr size_t kMaxWorkspace = size_t{256} << 20;

std::string problem_str(const char* op, const ConvProblem& p) {
  return detail::concat(op, " [x ", p.n, "x", p.c, "x", p.h, "x", p.w, ", w ", p.o, "x",
                        p.c / std::max<int64_t>(p.groups, 1), "x", p.kh, "x", p.kw, ", stride ",
                        p.stride_h, ",", p.stride_w, ", pad ", p.pad_h, ",", p.pad_w, ", dilation ",
                        p.dil_h, ",", p.dil_w, ", groups ", p.groups, ", ", dtype_name(p.dtype),
                        "]");
}

cudnnDataType_t data_type(DType t, const std::string& what) {
  switch (t) {
    case DType::kF32:
      return CUDNN_DATA_FLOAT;
    case DType::kBF16:
      return CUDNN_DATA_BFLOAT16;
    case DType::kF16:
      return CUDNN_DATA_HALF;
    default:
      break;
  }
  CHORUS_CHECK(false, what, ": cuDNN convolutions take f32, bf16 or f16");
  return CUDNN_DATA_FLOAT;
}

struct Key {
  int device;
  ConvProblem p;
  auto tie() const {
    return std::tie(device, p.n, p.c, p.h, p.w, p.o, p.kh, p.kw, p.stride_h, p.stride_w, p.pad_h,
                    p.pad_w, p.dil_h, p.dil_w, p.groups, p.dtype);
  }
  bool operator<(const Key& o) const { return tie() < o.tie(); }
};

struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  bool have_fwd = false, have_bwd_data = false, have_bwd_filter = false;
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
  size_t fwd_ws = 0, bwd_data_ws = 0, bwd_filter_ws = 0;
  ~ConvPlan() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

std::mutex g_mu;  // guards g_plans; plans are filled lazily under cudnn_lock()
std::map<Key, std::shared_ptr<ConvPlan>> g_plans;

std::shared_ptr<ConvPlan> get_plan(const ConvProblem& p, const std::string& what) {
  int dev = 0;
  cudaGetDevice(&dev);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_plans.find(Key{dev, p});
    if (it != g_plans.end()) return it->second;
  }
  auto plan = std::make_shared<ConvPlan>();
  const cudnnDataType_t t = data_type(p.dtype, what);
  auto i = [](int64_t v) { return static_cast<int>(v); };
  check_cudnn(cudnnCreateTensorDescriptor(&plan->x), what, "cudnnCreateTensorDescriptor");
  check_cudnn(cudnnCreateTensorDescriptor(&plan->y), what, "cudnnCreateTensorDescriptor");
  check_cudnn(cudnnCreateTensorDescriptor(&plan->bias), what, "cudnnCreateTensorDescriptor");
  check_cudnn(cudnnCreateFilterDescriptor(&plan->w), what, "cudnnCreateFilterDescriptor");
  check_cudnn(cudnnCreateConvolutionDescriptor(&plan->conv), what,
              "cudnnCreateConvolutionDescriptor");
  check_cudnn(
      cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NCHW, t, i(p.n), i(p.c), i(p.h), i(p.w)),
      what, "cudnnSetTensor4dDescriptor(x)");
  check_cudnn(cudnnSetTensor4dDescriptor(plan->y, CUDNN_TENSOR_NCHW, t, i(p.n), i(p.o), i(p.out_h),
                                         i(p.out_w)),
              what, "cudnnSetTensor4dDescriptor(y)");
  check_cudnn(cudnnSetTensor4dDescriptor(plan->bias, CUDNN_TENSOR_NCHW, t, 1, i(p.o), 1, 1), what,
              "cudnnSetTensor4dDescriptor(bias)");
  check_cudnn(cudnnSetFilter4dDescriptor(plan->w, t, CUDNN_TENSOR_NCHW, i(p.o), i(p.c / p.groups),
                                         i(p.kh), i(p.kw)),
              what, "cudnnSetFilter4dDescriptor");
  check_cudnn(cudnnSetConvolution2dDescriptor(plan->conv, i(p.pad_h), i(p.pad_w), i(p.stride_h),
                                              i(p.stride_w), i(p.dil_h), i(p.dil_w),
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              what, "cudnnSetConvolution2dDescriptor");
  check_cudnn(cudnnSetConvolutionGroupCount(plan->conv, i(p.groups)), what,
              "cudnnSetConvolutionGroupCount");
  // f32 stays exact (FMA); half types use tensor cores.
  check_cudnn(cudnnSetConvolutionMathType(
                  plan->conv, p.dtype == DType::kF32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH),
              what, "cudnnSetConvolutionMathType");
  int on = 0, oc = 0, oh = 0, ow = 0;
  check_cudnn(
      cudnnGetConvolution2dForwardOutputDim(plan->conv, plan->x, plan->w, &on, &oc, &oh, &ow), what,
      "cudnnGetConvolution2dForwardOutputDim");
  CHORUS_CHECK(on == p.n && oc == p.o && oh == p.out_h && ow == p.out_w, what,
               ": cuDNN computes an output of ", on, "x", oc, "x", oh, "x", ow);
  std::lock_guard<std::mutex> lock(g_mu);
  return g_plans.emplace(Key{dev, p}, plan).first->second;
}

// The first heuristic choice that succeeds within the workspace limit.
template <class Perf>
bool pick(const Perf* perf, int count, decltype(Perf{}.algo) * algo, size_t* ws) {
  for (int i = 0; i < count; ++i) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= kMaxWorkspace) {
      *algo = perf[i].algo;
      *ws = perf[i].memory;
      return true;
    }
  }
  return false;
}

void* workspace_for(cudaStream_t stream, size_t bytes, const std::string& what) {
  return bytes > 0 ? scratch(stream, bytes, what) : nullptr;
}

}  // namespace

void conv_forward(const ConvProblem& p, const void* x, const void* w, const void* bias, void* y,
                  cudaStream_t stream) {
  const std::string what = problem_str("conv2d (cuDNN forward)", p);
  auto plan = get_plan(p, what);
  auto lock = cudnn_lock();
  cudnnHandle_t h = cudnn_handle(stream, what);
  if (!plan->have_fwd) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    check_cudnn(
        cudnnGetConvolutionForwardAlgorithm_v7(h, plan->x, plan->w, plan->conv, plan->y,
                                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, perf),
        what, "cudnnGetConvolutionForwardAlgorithm_v7");
    CHORUS_CHECK(pick(perf, count, &plan->fwd, &plan->fwd_ws), what, ": no algorithm");
    plan->have_fwd = true;
  }
  const float one = 1.f, zero = 0.f;
  void* ws = workspace_for(stream, plan->fwd_ws, what);
  check_cudnn(cudnnConvolutionForward(h, &one, plan->x, x, plan->w, w, plan->conv, plan->fwd, ws,
                                      plan->fwd_ws, &zero, plan->y, y),
              what, "cudnnConvolutionForward");
  if (bias != nullptr) {
    check_cudnn(cudnnAddTensor(h, &one, plan->bias, bias, &one, plan->y, y), what,
                "cudnnAddTensor(bias)");
  }
}

void conv_backward_data(const ConvProblem& p, const void* dy, const void* w, void* dx,
                        cudaStream_t stream) {
  const std::string what = problem_str("conv2d (cuDNN backward data)", p);
  auto plan = get_plan(p, what);
  auto lock = cudnn_lock();
  cudnnHandle_t h = cudnn_handle(stream, what);
  if (!plan->have_bwd_data) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int count = 0;
    check_cudnn(cudnnGetConvolutionBackwardDataAlgorithm_v7(
                    h, plan->w, plan->y, plan->conv, plan->x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                    &count, perf),
                what, "cudnnGetConvolutionBackwardDataAlgorithm_v7");
    CHORUS_CHECK(pick(perf, count, &plan->bwd_data, &plan->bwd_data_ws), what, ": no algorithm");
    plan->have_bwd_data = true;
  }
  const float one = 1.f, zero = 0.f;
  void* ws = workspace_for(stream, plan->bwd_data_ws, what);
  check_cudnn(
      cudnnConvolutionBackwardData(h, &one, plan->w, w, plan->y, dy, plan->conv, plan->bwd_data, ws,
                                   plan->bwd_data_ws, &zero, plan->x, dx),
      what, "cudnnConvolutionBackwardData");
}

void conv_backward_filter(const ConvProblem& p, const void* dy, const void* x, void* dw,
                          cudaStream_t stream) {
  const std::string what = problem_str("conv2d (cuDNN backward filter)", p);
  auto plan = get_plan(p, what);
  auto lock = cudnn_lock();
  cudnnHandle_t h = cudnn_handle(stream, what);
  if (!plan->have_bwd_filter) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int count = 0;
    check_cudnn(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                    h, plan->x, plan->y, plan->conv, plan->w,
                    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, perf),
                what, "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
    CHORUS_CHECK(pick(perf, count, &plan->bwd_filter, &plan->bwd_filter_ws), what,
                 ": no algorithm");
    plan->have_bwd_filter = true;
  }
  const float one = 1.f, zero = 0.f;
  void* ws = workspace_for(stream, plan->bwd_filter_ws, what);
  check_cudnn(
      cudnnConvolutionBackwardFilter(h, &one, plan->x, x, plan->y, dy, plan->conv, plan->bwd_filter,
                                     ws, plan->bwd_filter_ws, &zero, plan->w, dw),
      what, "cudnnConvolutionBackwardFilter");
}

// conv_backward_bias is in conv_bias_grad.cu: cuDNN's own refuses bf16.

}  // namespace chorus::cuda::dnn
