// Safetensors interop with PyTorch 1.13 through tools/safetensors_interop.py, an independent
// struct+json implementation: torch writes and Chorus reads, Chorus writes and torch checks,
// and a committed fixture written by torch loads without Python.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/io/safetensors.h"
#include "io_test_util.h"

namespace chorus {
namespace {

using ::chorus::testing::TempDir;

// Mirrors REFERENCE and ref_values in tools/safetensors_interop.py.
struct RefTensor {
  const char* name;
  DType dtype;
  Shape shape;
};
const RefTensor kReference[] = {
    {"f64/odd", DType::kF64, {3, 5, 7}},  {"u8/image", DType::kU8, {2, 3, 3}},
    {"f32/matrix", DType::kF32, {17, 3}}, {"bf16/vector", DType::kBF16, {11}},
    {"f16/cube", DType::kF16, {2, 3, 5}}, {"i64/vector", DType::kI64, {6}},
    {"bool/mask", DType::kBool, {7}},     {"i32/matrix", DType::kI32, {4, 3}},
    {"i8/vector", DType::kI8, {9}},       {"f32/scalar", DType::kF32, {}},
    {"f32/empty", DType::kF32, {0, 4}},
};

Tensor ref_tensor(const RefTensor& ref) {
  const int64_t n = shape_numel(ref.shape);
  if (ref.dtype == DType::kI64) {  // beyond double's exact range: build as integers
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      v[i] = (i * 1000000007) % (int64_t{1} << 50) - (int64_t{1} << 49);
    return Tensor::from_vector(v, ref.shape);
  }
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (ref.dtype) {
      case DType::kBool:
        v[i] = i % 3 == 0;
        break;
      case DType::kU8:
        v[i] = static_cast<double>((i * 37 + 5) % 256);
        break;
      case DType::kI8:
        v[i] = static_cast<double>((i * 37) % 201 - 100);
        break;
      case DType::kI32:
        v[i] = static_cast<double>((i * 7919) % 200001 - 100000);
        break;
      default:
        v[i] = static_cast<double>((i * 7) % 23 - 11) * 0.125;
    }
  }
  return Tensor::from_doubles(v, ref.shape, ref.dtype);
}

::testing::AssertionResult SameBytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << a.ToString() << " vs " << b.ToString();
  }
  Tensor ca = a.contiguous(), cb = b.contiguous();
  if (std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) != 0) {
    return ::testing::AssertionFailure() << "bytes differ for " << a.ToString();
  }
  return ::testing::AssertionSuccess();
}

// Checks a file written by the script (or the committed fixture made by it).
void ExpectTorchReference(const std::string& path) {
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(
      file->metadata(),
      (std::map<std::string, std::string>{
          {"format", "pt"}, {"writer", "safetensors_interop.py"}, {"note", "torch reference"}}));
  for (const RefTensor& ref : kReference) {
    SCOPED_TRACE(ref.name);
    auto loaded = file->load(ref.name);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_TRUE(SameBytes(*loaded, ref_tensor(ref)));
    // The script packs tensors without alignment padding; views must still work.
    auto view = file->load_view(ref.name);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_TRUE(SameBytes(*view, ref_tensor(ref)));
  }
  // torch rounded random floats to bf16 and f16; Chorus must round them identically.
  auto f32 = file->load("pair/f32");
  ASSERT_TRUE(f32.ok());
  EXPECT_TRUE(SameBytes(f32->to(DType::kBF16), *file->load("pair/bf16")));
  EXPECT_TRUE(SameBytes(f32->to(DType::kF16), *file->load("pair/f16")));
}

bool have_python() {
  const std::string python = CHORUS_PYTHON;
  return !python.empty() && std::filesystem::exists(python);
}

// Runs the interop script; returns its exit status (-1 when it did not exit normally).
int run_script(const std::string& args) {
  const std::string command = std::string("'") + CHORUS_PYTHON +
                              "' '" CHORUS_SOURCE_DIR "/tools/safetensors_interop.py' " + args;
  const int status = std::system(command.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(TorchInterop, ChorusReadsFileWrittenByTorch) {
  ASSERT_TRUE(have_python()) << "Debian python3 with torch not found: run tools/install-deps";
  TempDir dir;
  const std::string path = dir.file("torch.safetensors");
  ASSERT_EQ(run_script("write '" + path + "'"), 0);
  ExpectTorchReference(path);
}

TEST(TorchInterop, TorchReadsFileWrittenByChorus) {
  ASSERT_TRUE(have_python()) << "Debian python3 with torch not found: run tools/install-deps";
  TempDir dir;
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const RefTensor& ref : kReference) tensors.emplace_back(ref.name, ref_tensor(ref));
  const std::string path = dir.file("chorus.safetensors");
  ASSERT_TRUE(save_safetensors(path, tensors, {{"writer", "chorus"}, {"k", "a=b"}}).ok());
  EXPECT_EQ(
      run_script("check '" + path + "' --expect-metadata writer=chorus --expect-metadata k=a=b"),
      0);

  // The check must be able to fail: one changed element is caught.
  Tensor changed = ref_tensor(kReference[2]).clone();
  changed.data<float>()[5] += 1.0f;
  tensors[2].second = changed;
  ASSERT_TRUE(save_safetensors(path, tensors, {{"writer", "chorus"}}).ok());
  EXPECT_EQ(run_script("check '" + path + "' --expect-metadata writer=chorus 2>/dev/null"), 1);
}

TEST(TorchInterop, CommittedFixtureLoadsWithoutPython) {
  ExpectTorchReference(CHORUS_FIXTURE_DIR "/torch_reference.safetensors");
}

}  // namespace
}  // namespace chorus
