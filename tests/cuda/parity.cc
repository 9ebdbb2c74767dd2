#include "tests/cuda/parity.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include "core/ops/cuda/runtime.h"
#include "core/ops/kernel_dispatch.h"
#include "core/tensor/philox.h"

namespace chorus::parity {
namespace {

struct Tally {
  int64_t cases = 0, passed = 0;
  double max_nmse = 0;
};
std::mutex g_mutex;
std::map<std::pair<std::string, std::string>, Tally>& tallies() {
  static auto* t = new std::map<std::pair<std::string, std::string>, Tally>();
  return *t;
}

void record(const std::string& op, DType dtype, bool ok, double nmse) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Tally& t = tallies()[{op, dtype_name(dtype)}];
  ++t.cases;
  t.passed += ok;
  if (std::isfinite(nmse)) t.max_nmse = std::max(t.max_nmse, nmse);
}

int klass(double v) { return std::isnan(v) ? 1 : std::isinf(v) ? (v > 0 ? 2 : 3) : 0; }

// Writes the tally (and the kernels that ran through the host fallback) as JSON at exit.
class SummaryWriter : public ::testing::Environment {
 public:
  void TearDown() override {
    const char* path = std::getenv("CHORUS_PARITY_SUMMARY");
    if (path == nullptr) return;
    std::ofstream out(path);
    out << "{\n  \"ops\": [\n";
    bool first = true;
    for (const auto& [key, t] : tallies()) {
      out << (first ? "" : ",\n") << "    {\"op\": \"" << key.first << "\", \"dtype\": \""
          << key.second << "\", \"cases\": " << t.cases << ", \"passed\": " << t.passed
          << ", \"max_nmse\": " << t.max_nmse << "}";
      first = false;
    }
    out << "\n  ],\n  \"host_fallbacks\": [\n";
    first = true;
    for (const auto& [name, count] : ops_internal::host_fallback_counts()) {
      out << (first ? "" : ",\n") << "    {\"kernel\": \"" << name << "\", \"calls\": " << count
          << "}";
      first = false;
    }
    out << "\n  ]\n}\n";
  }
};
[[maybe_unused]] auto* const kSummary = ::testing::AddGlobalTestEnvironment(new SummaryWriter());

}  // namespace

bool have_gpu() { return cuda::device_count() > 0; }

Tensor rand(const Shape& shape, DType dtype, uint64_t seed, double lo, double hi) {
  const int64_t n = shape_numel(shape);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    v[i] = lo + (hi - lo) * uniform_from_word(philox_word(seed, 1234, static_cast<uint64_t>(i)));
  }
  return Tensor::from_doubles(v, shape, dtype);
}

Tensor randint(const Shape& shape, int64_t lo, int64_t hi, uint64_t seed) {
  const int64_t n = shape_numel(shape);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    v[i] = lo + static_cast<int64_t>(philox_word(seed, 4321, static_cast<uint64_t>(i)) %
                                     static_cast<uint64_t>(hi - lo));
  }
  return Tensor::from_vector(v, shape);
}

Tensor on(const Tensor& t, Device device) {
  Tensor out = Tensor::empty(t.shape(), t.dtype(), device);
  out.copy_(t);
  return out;
}

double threshold(DType dtype, bool grad) {
  double t;
  switch (dtype) {
    case DType::kF64:
      t = 1e-20;
      break;
    case DType::kF32:
      t = 1e-10;
      break;
    case DType::kF16:
      t = 1e-5;
      break;
    case DType::kBF16:
      t = 1e-4;
      break;
    default:
      t = 0;  // integers: exact
  }
  return grad ? t * 10 : t;
}

::testing::AssertionResult Match(const std::string& op, DType dtype, const Tensor& cpu,
                                 const Tensor& gpu_result, bool grad, double limit_override) {
  const std::string what = op + (grad ? " grad" : "") + " " + dtype_name(dtype);
  if (!cpu.defined() || !gpu_result.defined()) {
    record(op, dtype, cpu.defined() == gpu_result.defined(), 0);
    if (cpu.defined() == gpu_result.defined()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": one side is undefined";
  }
  if (cpu.shape() != gpu_result.shape()) {
    record(op, dtype, false, 0);
    return ::testing::AssertionFailure() << what << ": shapes differ " << shape_str(cpu.shape())
                                         << " vs " << shape_str(gpu_result.shape());
  }
  if (cpu.dtype() != gpu_result.dtype()) {
    record(op, dtype, false, 0);
    return ::testing::AssertionFailure() << what << ": dtypes differ " << dtype_name(cpu.dtype())
                                         << " vs " << dtype_name(gpu_result.dtype());
  }
  const auto a = cpu.to_vector<double>();
  const auto b = gpu_result.to(Device::cpu()).to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (klass(a[i]) != klass(b[i])) {
      record(op, dtype, false, 0);
      return ::testing::AssertionFailure() << what << ": element " << i << " is " << a[i]
                                           << " on the CPU but " << b[i] << " on CUDA";
    }
    if (klass(a[i]) != 0) continue;
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += a[i] * a[i];
  }
  const double nmse = den > 0 ? num / den : num;
  // The result's own precision decides (an f32 parameter updated from an f64 gradient is
  // judged as f32); non-floating results fall back to the case's dtype.
  const double limit = limit_override > 0
                           ? limit_override
                           : threshold(is_floating(cpu.dtype()) ? cpu.dtype() : dtype, grad);
  const bool ok = nmse <= limit;
  record(op, dtype, ok, nmse);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << " " << shape_str(cpu.shape()) << ": NMSE " << nmse << " above " << limit;
}

::testing::AssertionResult Same(const std::string& op, DType dtype, const Tensor& cpu,
                                const Tensor& gpu_result) {
  if (cpu.shape() != gpu_result.shape() || cpu.dtype() != gpu_result.dtype()) {
    record(op, dtype, false, 0);
    return ::testing::AssertionFailure()
           << op << ": " << cpu.ToString() << " vs " << gpu_result.ToString();
  }
  const auto a = cpu.to_vector<double>();
  const auto b = gpu_result.to(Device::cpu()).to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && !(std::isnan(a[i]) && std::isnan(b[i]))) {
      record(op, dtype, false, 0);
      return ::testing::AssertionFailure()
             << op << " " << dtype_name(dtype) << ": element " << i << " is " << a[i]
             << " on the CPU but " << b[i] << " on CUDA";
    }
  }
  record(op, dtype, true, 0);
  return ::testing::AssertionSuccess();
}

void check_op(const std::string& op, DType dtype, const std::vector<Tensor>& inputs, const OpFn& fn,
              std::vector<bool> grad_inputs) {
  if (grad_inputs.empty()) {
    for (const Tensor& t : inputs) grad_inputs.push_back(t.defined() && is_floating(t.dtype()));
  }
  std::vector<Tensor> cpu_in, gpu_in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor c = inputs[i].defined() ? inputs[i].detach() : Tensor();
    Tensor g = inputs[i].defined() ? on(inputs[i], gpu()) : Tensor();
    if (grad_inputs[i]) {
      c.set_requires_grad();
      g.set_requires_grad();
    }
    cpu_in.push_back(c);
    gpu_in.push_back(g);
  }
  const Tensor cpu_out = fn(cpu_in);
  const Tensor gpu_out = fn(gpu_in);
  ASSERT_TRUE(gpu_out.device().is_cuda()) << op << ": result left the GPU";
  EXPECT_TRUE(Match(op, dtype, cpu_out, gpu_out)) << label(dtype, inputs[0].shape());
  if (!cpu_out.requires_grad() || cpu_out.numel() == 0) return;
  const Tensor g = rand(cpu_out.shape(), cpu_out.dtype(), 99);
  cpu_out.backward(g);
  gpu_out.backward(on(g, gpu()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!grad_inputs[i]) continue;
    EXPECT_TRUE(Match(op, dtype, cpu_in[i].grad(), gpu_in[i].grad(), /*grad=*/true))
        << "input " << i << ", " << label(dtype, inputs[i].shape());
  }
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s = {{},        {0},         {1},       {7},         {3, 5},
                                       {2, 0, 3}, {4, 33, 17}, {1000, 3}, {2, 3, 257}, {65, 1031}};
  return s;
}

std::string label(DType dtype, const Shape& shape) {
  return std::string(dtype_name(dtype)) + shape_str(shape);
}

}  // namespace chorus::parity
