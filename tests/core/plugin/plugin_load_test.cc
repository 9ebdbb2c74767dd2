// Loading plugin libraries: the template plugin works end to end; libraries that are not
// plugins, or are built for another ABI, are refused with the right reason; exceptions thrown
// by a plugin never reach the caller.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/plugin/plugin.h"
#include "plugin_test_util.h"
#include "test_util.h"

namespace chorus::plugin {
namespace {

using chorus::testing::AllClose;
using nlohmann::json;

::testing::AssertionResult Contains(const absl::Status& s, const std::string& needle) {
  if (s.message().find(needle) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << s.message() << "' lacks '" << needle << "'";
}

TEST(PluginLoad, TemplateDecodesAndEncodes) {
  auto loaded = Plugin::Load(TestPlugin("skeleton_plugin"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Plugin& p = **loaded;
  EXPECT_EQ(p.name(), "skeleton");
  EXPECT_EQ(p.info().version, "0.1.0");
  EXPECT_EQ(p.info().modality, Modality::kOther);
  EXPECT_EQ(p.info().path, std::filesystem::canonical(TestPlugin("skeleton_plugin")).string());
  ASSERT_EQ(p.option_schema().size(), 3u);
  EXPECT_EQ(p.option_schema()[0].name, "chunk");

  auto decoder = p.MakeDecoder({{"chunk", 4}});
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  auto a = (*decoder)->decode_bytes("abcdefghij", {});  // 10 bytes: 3 tokens, last one padded
  auto b = (*decoder)->decode_bytes("xyz", {});
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<double> expected_a;
  for (char c : std::string("abcdefghij"))
    expected_a.push_back(static_cast<unsigned char>(c) / 255.0);
  expected_a.resize(12, 0.0);
  EXPECT_TRUE(AllClose(a->tensors.at("values"), testing::from(expected_a, {3, 4}, DType::kF32)));
  auto batch = (*decoder)->collate({*a, *b});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->size, 2);
  EXPECT_EQ(batch->tensors.at("values").shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(batch->tensors.at("mask").to_vector<int64_t>(),
            (std::vector<int64_t>{1, 1, 1, 1, 0, 0}));

  EncoderConfig config;
  config.shared_width = 5;
  config.options = {{"chunk", 4}};
  config.seed = 3;
  auto encoder = p.MakeEncoder(config);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_EQ((*encoder)->shared_width(), 5);
  auto out = Encode(**encoder, *batch);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->tokens.shape(), (Shape{2, 3, 5}));
  ASSERT_EQ(out->pooled.shape(), (Shape{2, 5}));

  // Reference: tokens = x·Wᵀ + b by naive loops; pooled = mean over the real tokens.
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : (*encoder)->state_dict()) state[name] = t;
  ASSERT_EQ(state.size(), 2u);
  const auto w = state.at("projection.weight").to_vector<double>();  // [5, 4]
  const auto bias = state.at("projection.bias").to_vector<double>();
  const auto x = batch->tensors.at("values").to_vector<double>();
  const int lengths[2] = {3, 1};
  std::vector<double> tokens(2 * 3 * 5), pooled(2 * 5, 0.0);
  for (int i = 0; i < 2; ++i) {
    for (int t = 0; t < 3; ++t) {
      for (int d = 0; d < 5; ++d) {
        double acc = bias[d];
        for (int k = 0; k < 4; ++k) acc += w[d * 4 + k] * x[(i * 3 + t) * 4 + k];
        tokens[(i * 3 + t) * 5 + d] = acc;
        if (t < lengths[i]) pooled[i * 5 + d] += acc / lengths[i];
      }
    }
  }
  EXPECT_TRUE(AllClose(out->tokens, testing::from(tokens, {2, 3, 5}), 1e-5, 1e-5));
  EXPECT_TRUE(AllClose(out->pooled, testing::from(pooled, {2, 5}), 1e-5, 1e-5));

  // Same seed, same parameters: recipes are reproducible.
  auto again = p.MakeEncoder(config);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(AllClose((*again)->state_dict()[0].second, state.at("projection.weight"), 0, 0));
}

TEST(PluginLoad, OptionsAreValidatedBeforeThePluginSeesThem) {
  auto p = Plugin::Load(TestPlugin("skeleton_plugin"));
  ASSERT_TRUE(p.ok());
  auto d = (*p)->MakeDecoder({{"chunk", 0}, {"scal", "unit"}});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(d.status(), "plugin 'skeleton': invalid options:"));
  EXPECT_TRUE(Contains(d.status(), "unknown option 'scal' (did you mean 'scale'?)"));
  EXPECT_TRUE(Contains(d.status(), "option 'chunk': 0 is out of range, must be in [1, 4096]"));
  EncoderConfig config;
  config.shared_width = 0;
  EXPECT_TRUE(Contains((*p)->MakeEncoder(config).status(), "shared width must be positive"));
  // Bad input to the decoder is a Status naming the problem.
  auto decoder = (*p)->MakeDecoder(json::object());
  ASSERT_TRUE(decoder.ok());
  EXPECT_TRUE(Contains((*decoder)->decode_bytes("", {}).status(), "empty input"));
  EXPECT_TRUE(Contains((*decoder)->decode_file("/nonexistent/x.bin", {}).status(),
                       "/nonexistent/x.bin: cannot open"));
}

TEST(PluginLoad, RejectsLibraryWithoutEntryPoint) {
  auto p = Plugin::Load(TestPlugin("test_no_entry"));
  EXPECT_TRUE(Contains(p.status(), "missing entry point 'chorus_plugin_entry'"));
}

TEST(PluginLoad, RejectsOtherAbiMajor) {
  auto p = Plugin::Load(TestPlugin("test_abi_major"));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(p.status(), "ABI mismatch: built for plugin ABI 2.0, this engine uses 1.0"));
}

TEST(PluginLoad, RejectsNewerAbiMinor) {
  auto p = Plugin::Load(TestPlugin("test_abi_minor"));
  EXPECT_TRUE(Contains(p.status(),
                       "ABI mismatch: built for plugin ABI 1.99, newer than this engine's 1.0"));
}

TEST(PluginLoad, RejectsTooSmallDescriptor) {
  auto p = Plugin::Load(TestPlugin("test_small_descriptor"));
  EXPECT_TRUE(Contains(p.status(), "ABI mismatch: descriptor is 12 bytes"));
}

TEST(PluginLoad, PassesOnTheLoadersMessage) {
  auto p = Plugin::Load(TestPlugin("test_undefined_symbol"));
  EXPECT_TRUE(Contains(p.status(), "dlopen failed: "));
  EXPECT_TRUE(Contains(p.status(), "undefined symbol: chorus_test_symbol_nobody_defines"));
  // An ELF header followed by nothing: dlopen's own complaint.
  TempDir dir;
  std::ofstream(dir.path() / "libtruncated.so") << "\x7f"
                                                   "ELF"
                                                   "\x02\x01\x01";
  auto truncated = Plugin::Load(dir.path() / "libtruncated.so");
  EXPECT_TRUE(Contains(truncated.status(), "dlopen failed: "));
  EXPECT_TRUE(Contains(truncated.status(), "libtruncated.so"));
}

TEST(PluginLoad, RejectsNonLibraryFile) {
  TempDir dir;
  std::ofstream(dir.path() / "libx.so") << "this is a text file\n";
  auto p = Plugin::Load(dir.path() / "libx.so");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(p.status(), "not a shared library (no ELF header)"));
  EXPECT_TRUE(Contains(Plugin::Load(dir.path() / "missing.so").status(), "cannot read"));
  EXPECT_TRUE(Contains(Plugin::Load(dir.path()).status(), "not a regular file"));
}

TEST(PluginLoad, ExceptionsNeverCrossTheBoundary) {
  auto loaded = Plugin::Load(TestPlugin("test_thrower"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Plugin& p = **loaded;
  EXPECT_TRUE(Contains(p.MakeDecoder({{"fail_in", "decoder_factory"}}).status(),
                       "plugin 'thrower' make_decoder: thrower factory failed"));
  auto decoder = p.MakeDecoder({{"fail_in", "decode"}});
  ASSERT_TRUE(decoder.ok());
  auto decoded = (*decoder)->decode_bytes("abc", {});
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);  // a failed CHORUS_CHECK
  EXPECT_TRUE(Contains(decoded.status(), "thrower cannot decode abc"));
  auto collating = p.MakeDecoder({{"fail_in", "collate"}});
  ASSERT_TRUE(collating.ok());
  EXPECT_TRUE(Contains((*collating)->collate({}).status(), "thrower collate out of range"));

  EncoderConfig config;
  config.shared_width = 8;
  config.options = {{"fail_in", "encoder_factory"}};
  EXPECT_TRUE(Contains(p.MakeEncoder(config).status(), "make_encoder: unknown exception"));
  config.options = {{"fail_in", "width"}};
  EXPECT_TRUE(Contains(p.MakeEncoder(config).status(), "encoder of shared width 9, asked for 8"));
  config.options = {{"fail_in", "encode"}};
  auto encoder = p.MakeEncoder(config);
  ASSERT_TRUE(encoder.ok());
  EXPECT_TRUE(Contains(Encode(**encoder, data::Batch{}).status(), "thrower encode failed"));
}

// The library stays mapped while anything made from it is alive, and goes when the last is gone.
bool IsMapped(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

TEST(PluginLoad, ObjectsKeepTheLibraryLoaded) {
  const std::string path = std::filesystem::canonical(TestPlugin("skeleton_plugin")).string();
  ASSERT_FALSE(IsMapped(path)) << "another test left the template loaded";
  std::shared_ptr<const Decoder> decoder;
  std::shared_ptr<Encoder> encoder;
  {
    auto p = Plugin::Load(path);
    ASSERT_TRUE(p.ok());
    decoder = *(*p)->MakeDecoder(json::object());
    EncoderConfig config;
    config.shared_width = 4;
    encoder = *(*p)->MakeEncoder(config);
  }  // the Plugin is gone
  EXPECT_TRUE(IsMapped(path));
  auto sample = decoder->decode_bytes("still here", {});  // vtable and code in the library
  ASSERT_TRUE(sample.ok());
  auto batch = decoder->collate({*sample});
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(Encode(*encoder, *batch).ok());
  decoder.reset();
  EXPECT_TRUE(IsMapped(path));
  encoder.reset();
  EXPECT_FALSE(IsMapped(path));
}

TEST(PluginLoad, ConcurrentLoadsAreSerialized) {
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(6);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto p = Plugin::Load(TestPlugin(i % 2 ? "skeleton_plugin" : "test_thrower"));
      results[i] = p.status();
      if (p.ok()) results[i] = (*p)->MakeDecoder(json::object()).status();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace chorus::plugin
