// save_safetensors / SafetensorsFile: round trips of every dtype and shape kind, metadata,
// layout guarantees, zero-copy views, and atomic replacement of an existing file.
#include "core/io/safetensors.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/tensor/allocator.h"
#include "io_test_util.h"

namespace chorus {
namespace {

using ::chorus::testing::read_bytes;
using ::chorus::testing::StatusIs;
using ::chorus::testing::TempDir;
using ::chorus::testing::write_bytes;
using Code = absl::StatusCode;

// Deterministic values exactly representable in every dtype (fp8 e4m3 included).
Tensor sample(const Shape& shape, DType dtype) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::kBool) {
      v[i] = i % 3 == 0;
    } else if (dtype == DType::kU8) {
      v[i] = static_cast<double>((i * 37 + 5) % 256);
    } else if (is_integral(dtype)) {
      v[i] = static_cast<double>(static_cast<int64_t>((i * 37) % 201) - 100);
    } else {
      v[i] = (static_cast<double>(i % 9) - 4.0) * 0.75;
    }
  }
  return Tensor::from_doubles(v, shape, dtype);
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.is_contiguous() &&
         b.is_contiguous() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

std::string name_for(DType dtype, const Shape& shape) {
  std::string name = std::string(dtype_name(dtype)) + "/";
  for (int64_t s : shape) name += std::to_string(s) + "x";
  return name;
}

TEST(Safetensors, DtypeStringsRoundTrip) {
  for (DType d : kAllDTypes) {
    EXPECT_EQ(dtype_from_safetensors_string(safetensors_dtype_string(d)), d) << dtype_name(d);
  }
  EXPECT_STREQ(safetensors_dtype_string(DType::kF8E4M3), "F8_E4M3");
  EXPECT_STREQ(safetensors_dtype_string(DType::kBool), "BOOL");
}

TEST(Safetensors, RoundTripsEveryDtypeAndShapeKind) {
  TempDir dir;
  const std::vector<Shape> shapes = {{}, {0}, {3, 0, 2}, {5}, {2, 3}, {1, 1, 7}};
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (DType d : kAllDTypes) {
    for (const Shape& s : shapes) tensors.emplace_back(name_for(d, s), sample(s, d));
  }
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"step", "1200"}, {"empty", ""}, {"unicode", "caf\xc3\xa9 \xe2\x9c\x93"}};
  const std::string path = dir.file("all.safetensors");
  ASSERT_TRUE(save_safetensors(path, tensors, metadata).ok());

  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata(), metadata);
  EXPECT_EQ(file->names().size(), tensors.size());
  for (const auto& [name, expected] : tensors) {
    SCOPED_TRACE(name);
    auto info = file->info(name);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->dtype, expected.dtype());
    EXPECT_EQ(info->shape, expected.shape());
    EXPECT_EQ(info->nbytes(), expected.nbytes());
    // Every tensor is aligned to its element size, so views need no copy.
    EXPECT_EQ(info->begin % dtype_size(expected.dtype()), 0u);
    auto loaded = file->load(name);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_TRUE(same_bytes(*loaded, expected));
    auto view = file->load_view(name);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_TRUE(same_bytes(*view, expected));
  }
  auto all = file->load_all();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), tensors.size());
  EXPECT_TRUE(same_bytes(all->at("bf16/2x3x"), sample({2, 3}, DType::kBF16)));
}

TEST(Safetensors, PreservesSpecialFloatBitsExactly) {
  TempDir dir;
  const float inf = std::numeric_limits<float>::infinity();
  Tensor f = Tensor::from_vector<float>(
      {-0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(),
       std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max()},
      {6});
  Tensor h = Tensor::empty({4}, DType::kF16);
  const uint16_t half_bits[] = {0x8000, 0x7c00, 0x7e01, 0x0001};  // -0, inf, NaN payload, denormal
  std::memcpy(h.raw_data(), half_bits, sizeof half_bits);
  const std::string path = dir.file("special.safetensors");
  ASSERT_TRUE(save_safetensors(path, {{"f", f}, {"h", h}}).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(same_bytes(*file->load("f"), f));
  EXPECT_TRUE(same_bytes(*file->load("h"), h));
}

TEST(Safetensors, WritesNonContiguousTensorsContiguous) {
  TempDir dir;
  Tensor base = Tensor::arange(0, 12).reshape({3, 4});
  Tensor transposed = base.t();                                        // strides [1, 4]
  Tensor stepped = base.slice(1, 0, 4, 2);                             // every other column
  Tensor expanded = Tensor::arange(0, 3).unsqueeze(0).expand({2, 3});  // stride 0
  ASSERT_FALSE(transposed.is_contiguous());
  const std::string path = dir.file("views.safetensors");
  ASSERT_TRUE(save_safetensors(path, {{"t", transposed}, {"s", stepped}, {"e", expanded}}).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->load("t")->to_vector<int64_t>(),
            (std::vector<int64_t>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(file->load("t")->shape(), (Shape{4, 3}));
  EXPECT_EQ(file->load("s")->to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(file->load("e")->to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
}

TEST(Safetensors, HeaderIsPaddedAndWiderDtypesComeFirst) {
  TempDir dir;
  const std::string path = dir.file("layout.safetensors");
  ASSERT_TRUE(save_safetensors(path, {{"bytes", Tensor::ones({3}, DType::kU8)},
                                      {"halves", Tensor::ones({3}, DType::kBF16)},
                                      {"doubles", Tensor::ones({2}, DType::kF64)}})
                  .ok());
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 16 + 6 + 3);
  const std::string json = bytes.substr(8, n);
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json[json.find_last_not_of(' ')], '}');         // only spaces after the object
  EXPECT_EQ(json.find("__metadata__"), std::string::npos);  // none given, none written
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->names(), (std::vector<std::string>{"doubles", "halves", "bytes"}));
  EXPECT_EQ(file->info("halves")->begin, 16u);
  EXPECT_EQ(file->info("bytes")->begin, 22u);
}

TEST(Safetensors, UnknownNameIsNotFound) {
  TempDir dir;
  const std::string path = dir.file("one.safetensors");
  ASSERT_TRUE(save_safetensors(path, {{"w", Tensor::ones({2})}}).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->contains("w"));
  EXPECT_FALSE(file->contains("v"));
  EXPECT_TRUE(StatusIs(file->load("v").status(), Code::kNotFound, {path, "no tensor named 'v'"}));
  EXPECT_TRUE(StatusIs(file->info("v").status(), Code::kNotFound, {"'v'"}));
  EXPECT_TRUE(StatusIs(file->load_view("v").status(), Code::kNotFound, {"'v'"}));
}

TEST(Safetensors, ViewOutlivesTheFileObjectAndWritesStayPrivate) {
  TempDir dir;
  const std::string path = dir.file("view.safetensors");
  ASSERT_TRUE(save_safetensors(path, {{"w", Tensor::full({4}, 2.0)}}).ok());
  const std::string before = read_bytes(path);
  Tensor view;
  {
    auto file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.ok());
    view = *file->load_view("w");
  }  // the mapping lives on in the view's storage
  EXPECT_EQ(view.to_vector<float>(), (std::vector<float>{2, 2, 2, 2}));
  view.fill_(5.0);
  EXPECT_EQ(view.to_vector<float>(), (std::vector<float>{5, 5, 5, 5}));
  EXPECT_EQ(read_bytes(path), before);  // copy-on-write: the file is untouched
}

TEST(Safetensors, RejectsBadTensorsBeforeTouchingTheFile) {
  TempDir dir;
  const std::string path = dir.file("x.safetensors");
  EXPECT_TRUE(StatusIs(save_safetensors(path, {{"a", Tensor::ones({1})}, {"a", Tensor()}}),
                       Code::kInvalidArgument, {path, "tensor 'a' is undefined"}));
  EXPECT_TRUE(StatusIs(save_safetensors(path, {{"a", Tensor::ones({1})}, {"a", Tensor::ones({1})}}),
                       Code::kInvalidArgument, {path, "'a' appears twice"}));
  EXPECT_TRUE(StatusIs(save_safetensors(path, {{"__metadata__", Tensor::ones({1})}}),
                       Code::kInvalidArgument, {path, "reserved"}));
  EXPECT_TRUE(StatusIs(save_safetensors(path, {{"bad\xff", Tensor::ones({1})}}),
                       Code::kInvalidArgument, {path, "not valid UTF-8"}));
  EXPECT_TRUE(StatusIs(save_safetensors(path, {}, {{"k", "\xc3"}}), Code::kInvalidArgument,
                       {"not valid UTF-8"}));
  EXPECT_EQ(dir.entry_count(), 0u);
}

// A tensor that claims to live on a CUDA device (no CUDA needed: the storage is never read).
Tensor fake_cuda_tensor() {
  static float backing[4];
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(backing, sizeof backing, Device::cuda(0), [] {});
  impl->shape = {4};
  impl->strides = {1};
  return Tensor(std::move(impl));
}

class AtomicWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("model.safetensors");
    ASSERT_TRUE(save_safetensors(path_, {{"old", Tensor::full({8}, 3.0)}}, {{"v", "1"}}).ok());
    original_ = read_bytes(path_);
  }
  void ExpectOriginalIntact() {
    EXPECT_EQ(read_bytes(path_), original_);
    EXPECT_EQ(dir_.entry_count(), 1u) << "a temporary file was left behind";
    auto file = SafetensorsFile::Open(path_);
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->load("old")->to_vector<float>(), std::vector<float>(8, 3.0f));
  }
  TempDir dir_;
  std::string path_, original_;
};

TEST_F(AtomicWrite, ReplacesAnExistingFileWhole) {
  ASSERT_TRUE(save_safetensors(path_, {{"new", Tensor::ones({2}, DType::kI32)}}).ok());
  auto file = SafetensorsFile::Open(path_);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->names(), (std::vector<std::string>{"new"}));
  EXPECT_TRUE(file->metadata().empty());
  EXPECT_EQ(dir_.entry_count(), 1u);
}

// A device tensor is staged through host memory; when its backend is not loaded the copy fails
// with a message naming the tensor, and the file already there is kept.
TEST_F(AtomicWrite, UnreadableDeviceTensorLeavesExistingFileIntact) {
  if (has_allocator(Device::Kind::kCuda)) GTEST_SKIP() << "a CUDA backend is loaded";
  EXPECT_TRUE(
      StatusIs(save_safetensors(path_, {{"ok", Tensor::ones({2})}, {"gpu", fake_cuda_tensor()}}),
               Code::kFailedPrecondition, {path_, "cannot read tensor 'gpu'", "CUDA backend"}));
  ExpectOriginalIntact();
}

TEST_F(AtomicWrite, MissingDirectoryFails) {
  const std::string missing = dir_.file("no/such/dir/model.safetensors");
  EXPECT_TRUE(StatusIs(save_safetensors(missing, {{"w", Tensor::ones({2})}}), Code::kNotFound,
                       {missing, "cannot create a temporary file"}));
  ExpectOriginalIntact();
}

TEST_F(AtomicWrite, DestinationIsADirectoryFailsCleanly) {
  const std::string sub = dir_.file("sub");
  ASSERT_TRUE(std::filesystem::create_directory(sub));
  write_bytes(sub + "/keep", "x");
  EXPECT_FALSE(save_safetensors(sub, {{"w", Tensor::ones({2})}}).ok());
  EXPECT_EQ(read_bytes(sub + "/keep"), "x");
  std::filesystem::remove_all(sub);
  ExpectOriginalIntact();
}

// A write that fails half way (file size limit hit after the header) must not disturb the
// existing file and must remove its temporary file.
TEST_F(AtomicWrite, FailureMidWriteLeavesExistingFileIntact) {
  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
  struct rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  const absl::Status status = save_safetensors(path_, {{"big", Tensor::ones({1 << 16})}});
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(StatusIs(status, Code::kOutOfRange, {path_, "write failed"})) << status;
  ExpectOriginalIntact();
}

}  // namespace
}  // namespace chorus
