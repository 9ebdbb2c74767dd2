// Registry: discovery order, rejections with reasons, duplicates, lookups that fail loudly,
// and plugins' objects outliving the registry.
#include "core/plugin/registry.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "plugin_test_util.h"

namespace chorus::plugin {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Copies a built test plugin into `dir` under `name`.
fs::path CopyPlugin(const std::string& target, const fs::path& dir, const std::string& name) {
  fs::create_directories(dir);
  fs::copy_file(TestPlugin(target), dir / name, fs::copy_options::overwrite_existing);
  return fs::canonical(dir / name);
}

// Only the locations a test names: no CHORUS_PLUGIN_PATH, no shipped plugins.
const SearchOptions kOnlyGiven{.environment = false, .default_dirs = false};

std::string ReasonFor(const Registry& r, const fs::path& path) {
  for (const Rejection& rej : r.rejected()) {
    if (rej.path == fs::weakly_canonical(path).string()) return rej.reason;
  }
  return "<not rejected>";
}

TEST(Registry, ScansFoldersAndRecordsEveryRejection) {
  Registry registry;
  registry.Discover({CHORUS_TEST_PLUGIN_DIR}, kOnlyGiven);
  std::vector<std::string> names;
  for (const auto& p : registry.plugins()) names.push_back(p->name());
  EXPECT_EQ(names, (std::vector<std::string>{"skeleton", "thrower"}));  // sorted file order
  ASSERT_EQ(registry.rejected().size(), 5u);
  EXPECT_NE(ReasonFor(registry, TestPlugin("test_abi_major")).find("ABI mismatch"),
            std::string::npos);
  EXPECT_NE(ReasonFor(registry, TestPlugin("test_abi_minor")).find("newer than"),
            std::string::npos);
  EXPECT_NE(ReasonFor(registry, TestPlugin("test_small_descriptor")).find("descriptor is 12 bytes"),
            std::string::npos);
  EXPECT_NE(ReasonFor(registry, TestPlugin("test_no_entry")).find("missing entry point"),
            std::string::npos);
  EXPECT_NE(ReasonFor(registry, TestPlugin("test_undefined_symbol")).find("dlopen failed"),
            std::string::npos);
  const json j = registry.ToJson();
  EXPECT_EQ(j["plugins"].size(), 2u);
  EXPECT_EQ(j["plugins"][0]["name"], "skeleton");
  EXPECT_EQ(j["plugins"][0]["modality"], "other");
  EXPECT_EQ(j["rejected"].size(), 5u);
  EXPECT_EQ(j["searched"][0]["source"], "argument");
}

TEST(Registry, NonLibraryFilesInAFolder) {
  TempDir dir;
  std::ofstream(dir.path() / "libx.so") << "not a library\n";
  std::ofstream(dir.path() / "README.md") << "ignored: not named like a library\n";
  Registry registry;
  registry.Discover({dir.path().string()}, kOnlyGiven);
  EXPECT_TRUE(registry.plugins().empty());
  ASSERT_EQ(registry.rejected().size(), 1u);
  EXPECT_EQ(registry.rejected()[0].path, fs::canonical(dir.path() / "libx.so").string());
  EXPECT_EQ(registry.rejected()[0].reason, "not a shared library (no ELF header)");
}

TEST(Registry, FirstLocationWinsANameLaterOnesAreDuplicates) {
  TempDir dir;
  const fs::path first = CopyPlugin("skeleton_plugin", dir.path() / "recipe", "libmine.so");
  const fs::path env_copy = CopyPlugin("skeleton_plugin", dir.path() / "env", "libmine.so");
  const fs::path env_file = CopyPlugin("skeleton_plugin", dir.path() / "file", "anything.bin");
  // CHORUS_PLUGIN_PATH: a folder and a single file (any name), colon-separated.
  const std::string env = (dir.path() / "env").string() + "::" + env_file.string();
  ASSERT_EQ(setenv("CHORUS_PLUGIN_PATH", env.c_str(), 1), 0);
  Registry registry;
  registry.Discover({(dir.path() / "recipe").string()},
                    {.environment = true, .default_dirs = false});
  unsetenv("CHORUS_PLUGIN_PATH");
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0]->info().path, first.string());
  EXPECT_EQ(ReasonFor(registry, env_copy),
            "duplicate plugin name 'skeleton': already loaded from " + first.string());
  EXPECT_NE(ReasonFor(registry, env_file).find("duplicate plugin name"), std::string::npos);
  ASSERT_EQ(registry.searched().size(), 3u);
  EXPECT_EQ(registry.searched()[1].source, "CHORUS_PLUGIN_PATH");
  // Discovering again (e.g. a recipe adding paths) does not try the same files twice.
  registry.Discover({(dir.path() / "recipe").string()}, kOnlyGiven);
  EXPECT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.rejected().size(), 2u);
}

TEST(Registry, SearchPathOrder) {
  ASSERT_EQ(setenv("CHORUS_PLUGIN_PATH", "/env/a:/env/b", 1), 0);
  const auto locations = PluginSearchPath({"/recipe/x", "/env/a"});
  unsetenv("CHORUS_PLUGIN_PATH");
  ASSERT_GE(locations.size(), 4u);
  EXPECT_EQ(locations[0].path, "/recipe/x");
  EXPECT_EQ(locations[1].path, "/env/a");  // given first: listed once, as an argument
  EXPECT_EQ(locations[1].source, "argument");
  EXPECT_EQ(locations[2].path, "/env/b");
  EXPECT_EQ(locations[2].source, "CHORUS_PLUGIN_PATH");
  // Then beside the executable (this test binary lives in <build>/bin).
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(locations[3].source, "executable");
  EXPECT_EQ(locations[3].path,
            fs::weakly_canonical(exe.parent_path().parent_path() / "lib/chorus/plugins").string());
  EXPECT_EQ(locations.back().source, "install prefix");
  EXPECT_EQ(SplitPathList(":a::b:"), (std::vector<std::string>{"a", "b"}));
}

TEST(Registry, FindFailsLoudly) {
  TempDir dir;
  std::ofstream(dir.path() / "libbroken.so") << "text\n";
  Registry registry;
  registry.Discover({TestPlugin("skeleton_plugin").string(), dir.path().string()}, kOnlyGiven);
  ASSERT_TRUE(registry.Find("skeleton").ok());
  auto missing = registry.Find("skeletn");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  const std::string message(missing.status().message());
  EXPECT_NE(message.find("plugin 'skeletn' not found (did you mean 'skeleton'?)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("loaded: skeleton"), std::string::npos) << message;
  EXPECT_NE(message.find("libbroken.so (not a shared library"), std::string::npos) << message;
  EXPECT_NE(message.find("searched: "), std::string::npos) << message;
  EXPECT_EQ(Registry().Find("image").status().message().find(
                "plugin 'image' not found; no plugins loaded"),
            0u);
}

TEST(Registry, ObjectsOutliveTheRegistry) {
  std::shared_ptr<const Decoder> decoder;
  std::shared_ptr<Encoder> encoder;
  {
    auto registry = std::make_unique<Registry>();
    registry->Discover({CHORUS_TEST_PLUGIN_DIR}, kOnlyGiven);
    auto plugin = registry->Find("skeleton");
    ASSERT_TRUE(plugin.ok());
    decoder = *(*plugin)->MakeDecoder({{"chunk", 2}});
    EncoderConfig config;
    config.shared_width = 3;
    config.options = {{"chunk", 2}};
    encoder = *(*plugin)->MakeEncoder(config);
    registry.reset();  // the registry goes first ...
  }                    // ... then the plugin handle
  auto sample = decoder->decode_bytes("abcde", {});
  ASSERT_TRUE(sample.ok()) << sample.status();
  auto batch = decoder->collate({*sample, *sample});
  ASSERT_TRUE(batch.ok());
  auto out = Encode(*encoder, *batch);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->tokens.shape(), (Shape{2, 3, 3}));
  // The encoder as a child module of a bigger model shares ownership: fine to drop ours.
  std::shared_ptr<nn::Module> alias = encoder;
  encoder.reset();
  decoder.reset();
  EXPECT_EQ(alias->named_parameters().size(), 2u);
}

}  // namespace
}  // namespace chorus::plugin
