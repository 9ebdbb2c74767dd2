// cuBLASLt GEMM: plans (descriptors + heuristic algorithm) cached per problem, one workspace
// per device and stream. See gemm.h for the row-major ↔ column-major mapping.
#include "core/ops/cuda/blas/gemm.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include "core/tensor/error.h"

namespace chorus::cuda::blas {
namespace {

std::string problem_str(const GemmArgs& g) {
  return detail::concat(g.op, " [m=", g.m, ", n=", g.n, ", k=", g.k, ", batch=", g.batch,
                        ", ta=", g.trans_a, ", tb=", g.trans_b, ", lda=", g.lda, ", ldb=", g.ldb,
                        ", ldc=", g.ldc, ", ", dtype_name(g.ab_type), "->", dtype_name(g.c_type),
                        "]");
}

void check_cublas(cublasStatus_t st, const char* call, const GemmArgs& g) {
  CHORUS_CHECK(st == CUBLAS_STATUS_SUCCESS, problem_str(g), ": ", call,
               " failed: ", cublasLtGetStatusName(st), " (", cublasLtGetStatusString(st), ")");
}

void check_cuda(cudaError_t st, const char* call, const GemmArgs& g) {
  CHORUS_CHECK(st == cudaSuccess, problem_str(g), ": ", call, " failed: ", cudaGetErrorString(st));
}

cudaDataType_t cuda_type(DType t, const GemmArgs& g) {
  switch (t) {
    case DType::kF32:
      return CUDA_R_32F;
    case DType::kBF16:
      return CUDA_R_16BF;
    case DType::kF16:
      return CUDA_R_16F;
    case DType::kF8E4M3:
      return CUDA_R_8F_E4M3;
    case DType::kF8E5M2:
      return CUDA_R_8F_E5M2;
    default:
      break;
  }
  CHORUS_CHECK(false, problem_str(g), ": dtype ", dtype_name(t), " has no cuBLASLt GEMM");
  return CUDA_R_32F;
}

size_t type_size(DType t) {
  switch (t) {
    case DType::kF32:
      return 4;
    case DType::kBF16:
    case DType::kF16:
      return 2;
    default:
      return 1;
  }
}

bool is_fp8(DType t) { return t == DType::kF8E4M3 || t == DType::kF8E5M2; }

// Largest power of two (at most 256) dividing every value: the alignment cuBLASLt may assume.
uint32_t alignment_of(std::initializer_list<uint64_t> values) {
  uint32_t a = 256;
  for (uint64_t v : values) {
    while (a > 1 && v % a != 0) a >>= 1;
  }
  return a;
}

struct PlanKey {
  int device;
  int64_t m, n, k, lda, ldb, ldc, batch, sa, sb, sc;
  bool ta, tb, tf32, beta_zero;
  DType ab, c;
  Epilogue epi;
  uint32_t align_a, align_b, align_c;
  auto tie() const {
    return std::tie(device, m, n, k, lda, ldb, ldc, batch, sa, sb, sc, ta, tb, tf32, beta_zero, ab,
                    c, epi, align_a, align_b, align_c);
  }
  bool operator<(const PlanKey& o) const { return tie() < o.tie(); }
};

struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;  // cuBLAS A (ours B), B, C=D
  cublasLtMatmulAlgo_t algo{};
  bool has_algo = false;
  // The heuristic's candidates, timed once on first use for large problems (see tune()).
  std::vector<cublasLtMatmulAlgo_t> candidates;
  bool tuned = false;
  std::mutex mu;  // the bias/scale pointers are set on `desc` per call
  ~Plan() {
    if (desc) cublasLtMatmulDescDestroy(desc);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
  }
};

struct DeviceState {
  cublasLtHandle_t handle = nullptr;
  std::map<cudaStream_t, void*> workspaces;
};

std::mutex g_mu;
std::map<int, DeviceState> g_devices;
std::map<PlanKey, std::shared_ptr<Plan>> g_plans;

int current_device(const GemmArgs& g) {
  int dev = 0;
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice", g);
  return dev;
}

// Caller holds g_mu.
DeviceState& device_state(int dev, const GemmArgs& g) {
  DeviceState& s = g_devices[dev];
  if (s.handle == nullptr) check_cublas(cublasLtCreate(&s.handle), "cublasLtCreate", g);
  return s;
}

void* workspace(DeviceState& s, cudaStream_t stream, const GemmArgs& g) {
  void*& ws = s.workspaces[stream];
  if (ws == nullptr) {
    // Kept for the life of the process: cuBLASLt may still read it from queued work.
    check_cuda(cudaMalloc(&ws, kWorkspaceBytes), "cudaMalloc(cuBLASLt workspace)", g);
  }
  return ws;
}

void validate(const GemmArgs& g) {
  CHORUS_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0 && g.batch >= 1, problem_str(g),
               ": sizes must be non-negative and batch >= 1");
  const int64_t a_cols = g.trans_a ? g.m : g.k, b_cols = g.trans_b ? g.k : g.n;
  CHORUS_CHECK(g.lda >= std::max<int64_t>(1, a_cols) && g.ldb >= std::max<int64_t>(1, b_cols) &&
                   g.ldc >= std::max<int64_t>(1, g.n),
               problem_str(g), ": a leading dimension is smaller than its row");
  if (is_fp8(g.ab_type)) {
    CHORUS_CHECK(!g.trans_a && g.trans_b, problem_str(g),
                 ": FP8 GEMM needs A [m, k] and B [n, k] (the TN layout)");
    CHORUS_CHECK(g.c_type == DType::kBF16 || g.c_type == DType::kF32 || g.c_type == DType::kF16,
                 problem_str(g), ": FP8 GEMM writes bf16, f16 or f32");
    CHORUS_CHECK(g.scale_a != nullptr && g.scale_b != nullptr, problem_str(g),
                 ": FP8 GEMM needs scale_a and scale_b");
    // cuBLASLt 13 answers NOT_SUPPORTED for a scale 4 bytes past another (seen on the H200);
    // each scale in its own 16-byte slot works.
    auto aligned16 = [](const float* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    CHORUS_CHECK(aligned16(g.scale_a) && aligned16(g.scale_b), problem_str(g),
                 ": FP8 GEMM scale pointers must be 16-byte aligned (cuBLASLt refuses others)");
  } else {
    CHORUS_CHECK(g.ab_type == g.c_type, problem_str(g), ": A, B and C must share one dtype");
  }
  if (g.epilogue == Epilogue::kBias || g.epilogue == Epilogue::kGeluBias) {
    CHORUS_CHECK(g.bias != nullptr, problem_str(g), ": the bias epilogue needs a bias");
  }
  if (g.epilogue == Epilogue::kBiasGrad) {
    CHORUS_CHECK(g.bias_grad != nullptr, problem_str(g), ": kBiasGrad needs bias_grad");
  }
}

PlanKey key_of(const GemmArgs& g, int dev, const void* a, const void* b, const void* c) {
  const uint64_t ea = type_size(g.ab_type), ec = type_size(g.c_type);
  PlanKey k{};
  k.device = dev;
  k.m = g.m, k.n = g.n, k.k = g.k, k.lda = g.lda, k.ldb = g.ldb, k.ldc = g.ldc;
  k.batch = g.batch, k.sa = g.stride_a, k.sb = g.stride_b, k.sc = g.stride_c;
  k.ta = g.trans_a, k.tb = g.trans_b, k.tf32 = g.allow_tf32, k.beta_zero = g.beta == 0.f;
  k.ab = g.ab_type, k.c = g.c_type, k.epi = g.epilogue;
  auto addr = [](const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); };
  k.align_a = alignment_of({addr(a), g.lda * ea, g.stride_a * ea});
  k.align_b = alignment_of({addr(b), g.ldb * ea, g.stride_b * ea});
  k.align_c = alignment_of({addr(c), g.ldc * ec, g.stride_c * ec});
  return k;
}

cublasLtEpilogue_t lt_epilogue(Epilogue e) {
  switch (e) {
    case Epilogue::kBias:
      return CUBLASLT_EPILOGUE_BIAS;
    case Epilogue::kGelu:
      return CUBLASLT_EPILOGUE_GELU;
    case Epilogue::kGeluBias:
      return CUBLASLT_EPILOGUE_GELU_BIAS;
    case Epilogue::kBiasGrad:
      // Our A is cuBLAS's B; its reduction over k has one value per column of D (= our row).
      return CUBLASLT_EPILOGUE_BGRADB;
    case Epilogue::kNone:
      break;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

template <class T>
void set_desc(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, const T& v,
              const GemmArgs& g) {
  check_cublas(cublasLtMatmulDescSetAttribute(d, attr, &v, sizeof(v)),
               "cublasLtMatmulDescSetAttribute", g);
}

cublasLtMatrixLayout_t make_layout(DType t, int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                                   int64_t stride, const GemmArgs& g) {
  cublasLtMatrixLayout_t l = nullptr;
  check_cublas(cublasLtMatrixLayoutCreate(&l, cuda_type(t, g), static_cast<uint64_t>(rows),
                                          static_cast<uint64_t>(cols), ld),
               "cublasLtMatrixLayoutCreate", g);
  if (batch > 1) {
    const int32_t count = static_cast<int32_t>(batch);
    check_cublas(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                                  sizeof(count)),
                 "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)", g);
    check_cublas(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                  &stride, sizeof(stride)),
                 "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)", g);
  }
  return l;
}

constexpr int kCandidates = 32;
// Products of at least this many flops time the heuristic's candidates once; smaller ones take
// its first choice (the timing would cost more than it could save).
constexpr double kTuneFlops = 2.0 * 1024 * 1024 * 1024;

// C as cuBLASLt's input. FP8 products refuse to run in place (C == D: NOT_SUPPORTED, seen on
// the H200 with cuBLASLt 13), and with beta = 0 they need no C at all.
const void* c_input(const GemmArgs& g, const void* c) {
  return is_fp8(g.ab_type) && g.beta == 0.f ? nullptr : c;
}

void set_pointers(cublasLtMatmulDesc_t desc, const GemmArgs& g) {
  if (g.epilogue == Epilogue::kBias || g.epilogue == Epilogue::kGeluBias) {
    set_desc(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, g.bias, g);
  } else if (g.epilogue == Epilogue::kBiasGrad) {
    set_desc(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, static_cast<const void*>(g.bias_grad), g);
  }
  if (is_fp8(g.ab_type)) {  // cuBLAS's A is our B
    set_desc(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, static_cast<const void*>(g.scale_b), g);
    set_desc(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, static_cast<const void*>(g.scale_a), g);
  }
}

// Times each candidate (one warm-up, then three runs) on the call's own operands and keeps the
// fastest: the heuristic's first choice is not always the fastest kernel on the H200. Only when C
// is not read (beta = 0), so the trial products leave no trace, and never while the stream is
// captured into a graph.
void tune(Plan& plan, cublasLtHandle_t handle, const GemmArgs& g, const void* a, const void* b,
          void* c, void* ws, cudaStream_t stream) {
  plan.tuned = true;
  const double flops = 2.0 * g.m * g.n * g.k * g.batch;
  if (plan.candidates.size() < 2 || g.beta != 0.f || flops < kTuneFlops) return;
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &capture) != cudaSuccess ||
      capture != cudaStreamCaptureStatusNone) {
    return;
  }
  cudaEvent_t start, stop;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate", g);
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate", g);
  float best = 0.f;
  for (const cublasLtMatmulAlgo_t& algo : plan.candidates) {
    auto run = [&] {
      return cublasLtMatmul(handle, plan.desc, &g.alpha, b, plan.a, a, plan.b, &g.beta,
                            c_input(g, c), plan.c, c, plan.c, &algo, ws, kWorkspaceBytes, stream);
    };
    if (run() != CUBLAS_STATUS_SUCCESS) continue;
    check_cuda(cudaEventRecord(start, stream), "cudaEventRecord", g);
    bool ok = true;
    for (int i = 0; i < 3 && ok; ++i) ok = run() == CUBLAS_STATUS_SUCCESS;
    check_cuda(cudaEventRecord(stop, stream), "cudaEventRecord", g);
    check_cuda(cudaEventSynchronize(stop), "cudaEventSynchronize", g);
    float ms = 0.f;
    cudaEventElapsedTime(&ms, start, stop);
    if (ok && (best == 0.f || ms < best)) {
      best = ms;
      plan.algo = algo;
    }
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

std::shared_ptr<Plan> build_plan(const GemmArgs& g, const PlanKey& key, cublasLtHandle_t handle) {
  auto plan = std::make_shared<Plan>();
  const cublasComputeType_t compute =
      g.ab_type == DType::kF32 && g.allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  check_cublas(cublasLtMatmulDescCreate(&plan->desc, compute, CUDA_R_32F),
               "cublasLtMatmulDescCreate", g);
  // Column-major call: D = op(B)ᵀ-as-stored · op(A)ᵀ-as-stored (see gemm.h).
  const cublasOperation_t op_a = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  set_desc(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, op_a, g);
  set_desc(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, op_b, g);
  const cublasLtEpilogue_t epi = lt_epilogue(g.epilogue);
  if (epi != CUBLASLT_EPILOGUE_DEFAULT) set_desc(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, epi, g);

  // Pointers that select kernel variants (scales, bias) are set before the heuristic runs, or
  // it may offer an algorithm that cublasLtMatmul then refuses (seen with FP8 scales).
  set_pointers(plan->desc, g);

  plan->a = make_layout(g.ab_type, g.trans_b ? g.k : g.n, g.trans_b ? g.n : g.k, g.ldb, g.batch,
                        g.stride_b, g);
  plan->b = make_layout(g.ab_type, g.trans_a ? g.m : g.k, g.trans_a ? g.k : g.m, g.lda, g.batch,
                        g.stride_a, g);
  plan->c = make_layout(g.c_type, g.n, g.m, g.ldc, g.batch, g.stride_c, g);

  cublasLtMatmulPreference_t pref = nullptr;
  check_cublas(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate", g);
  const uint64_t ws = kWorkspaceBytes;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                       sizeof(ws));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                       &key.align_b, sizeof(uint32_t));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                       &key.align_a, sizeof(uint32_t));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                       &key.align_c, sizeof(uint32_t));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                       &key.align_c, sizeof(uint32_t));
  cublasLtMatmulHeuristicResult_t results[kCandidates] = {};
  int returned = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(handle, plan->desc, plan->a, plan->b, plan->c, plan->c, pref,
                                     kCandidates, results, &returned);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st == CUBLAS_STATUS_SUCCESS && returned > 0) {
    plan->algo = results[0].algo;
    plan->has_algo = true;
    for (int i = 0; i < returned; ++i) {
      if (results[i].state == CUBLAS_STATUS_SUCCESS) plan->candidates.push_back(results[i].algo);
    }
  } else if (st != CUBLAS_STATUS_NOT_SUPPORTED) {
    check_cublas(st, "cublasLtMatmulAlgoGetHeuristic", g);
  }
  return plan;
}

std::pair<std::shared_ptr<Plan>, cublasLtHandle_t> get_plan(const GemmArgs& g, const void* a,
                                                            const void* b, const void* c,
                                                            cudaStream_t stream, void** ws) {
  const int dev = current_device(g);
  const PlanKey key = key_of(g, dev, a, b, c);
  std::lock_guard<std::mutex> lock(g_mu);
  DeviceState& s = device_state(dev, g);
  if (ws != nullptr) *ws = workspace(s, stream, g);
  auto it = g_plans.find(key);
  if (it == g_plans.end()) it = g_plans.emplace(key, build_plan(g, key, s.handle)).first;
  return {it->second, s.handle};
}

}  // namespace

void gemm(const GemmArgs& g, const void* a, const void* b, void* c, cudaStream_t stream) {
  validate(g);
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0) {  // cuBLASLt rejects k = 0; the product is empty, so C = beta·C
    CHORUS_CHECK(g.beta == 0.f && g.ldc == g.n && (g.batch == 1 || g.stride_c == g.m * g.n) &&
                     g.epilogue == Epilogue::kNone,
                 problem_str(g), ": k = 0 is only supported for a dense C with beta = 0");
    check_cuda(cudaMemsetAsync(c, 0, g.batch * g.m * g.n * type_size(g.c_type), stream),
               "cudaMemsetAsync", g);
    return;
  }
  void* ws = nullptr;
  auto [plan, handle] = get_plan(g, a, b, c, stream, &ws);
  CHORUS_CHECK(plan->has_algo, problem_str(g), ": cuBLASLt has no algorithm for this problem",
               g.epilogue != Epilogue::kNone ? " with this epilogue" : "");
  std::lock_guard<std::mutex> lock(plan->mu);
  set_pointers(plan->desc, g);
  if (!plan->tuned) tune(*plan, handle, g, a, b, c, ws, stream);
  check_cublas(
      cublasLtMatmul(handle, plan->desc, &g.alpha, b, plan->a, a, plan->b, &g.beta, c_input(g, c),
                     plan->c, c, plan->c, &plan->algo, ws, kWorkspaceBytes, stream),
      "cublasLtMatmul", g);
}

bool gemm_supported(const GemmArgs& g) {
  validate(g);
  if (g.m == 0 || g.n == 0) return true;
  // 256-byte aligned stand-ins: the plan key only uses the pointers' alignment.
  const void* p = reinterpret_cast<const void*>(uintptr_t{256});
  auto [plan, handle] = get_plan(g, p, p, p, nullptr, nullptr);
  (void)handle;
  return plan->has_algo;
}

int64_t gemm_plan_count() {
  std::lock_guard<std::mutex> lock(g_mu);
  return static_cast<int64_t>(g_plans.size());
}

}  // namespace chorus::cuda::blas
