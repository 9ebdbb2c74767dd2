// Writing and verifying checkpoint manifests (see checkpoint_manifest.h).
#include "core/train/checkpoint_manifest.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/train/checkpoint_fs.h"

namespace chorus::train::ckpt_internal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kManifestFormat = "chorus-checkpoint-manifest";
constexpr int kManifestVersion = 1;

std::string hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// A manifest names files inside its own directory only: no separators, no "." or "..".
bool is_plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

absl::StatusOr<std::string> build_manifest(const std::string& dir,
                                           const std::vector<std::string>& files) {
  json listed = json::object();
  for (const std::string& name : files) {
    auto digest = digest_file((fs::path(dir) / name).string());
    if (!digest.ok()) return digest.status();
    listed[name] = {{"bytes", digest->size}, {"crc32c", hex32(digest->crc32c)}};
  }
  const json manifest = {
      {"format", kManifestFormat}, {"version", kManifestVersion}, {"files", listed}};
  return manifest.dump(2) + "\n";
}

absl::Status verify_manifest(const std::string& dir, const std::vector<std::string>& required) {
  const std::string manifest_path = (fs::path(dir) / kManifestFile).string();
  auto text = read_small_file(manifest_path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::DataLossError(absl::StrCat(dir, ": ", kManifestFile,
                                              " is missing (an incomplete or foreign checkpoint)"));
    }
    return absl::DataLossError(absl::StrCat(dir, ": ", text.status().message()));
  }
  const json manifest = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    return absl::DataLossError(absl::StrCat(dir, ": ", kManifestFile, " is not valid JSON"));
  }
  if (manifest.value("format", json()) != kManifestFormat) {
    return absl::DataLossError(absl::StrCat(dir, ": ", kManifestFile,
                                            " is not a checkpoint manifest (format is not \"",
                                            kManifestFormat, "\")"));
  }
  if (manifest.value("version", json()) != kManifestVersion) {
    return absl::DataLossError(absl::StrCat(dir, ": ", kManifestFile, " has version ",
                                            manifest.value("version", json()).dump(),
                                            "; this engine reads version ", kManifestVersion));
  }
  const json& files = manifest.value("files", json());
  if (!files.is_object()) {
    return absl::DataLossError(absl::StrCat(dir, ": ", kManifestFile, " has no \"files\" object"));
  }

  std::vector<std::string> problems;
  for (const std::string& name : required) {
    if (!files.contains(name)) problems.push_back(absl::StrCat(name, ": not in the manifest"));
  }
  std::set<std::string> listed;
  for (const auto& [name, entry] : files.items()) {
    listed.insert(name);
    if (!is_plain_name(name) || name == kManifestFile) {
      problems.push_back(absl::StrCat("manifest lists an invalid file name ", json(name).dump()));
      continue;
    }
    const json& bytes = entry.is_object() ? entry.value("bytes", json()) : json();
    const json& crc = entry.is_object() ? entry.value("crc32c", json()) : json();
    if (!bytes.is_number_unsigned() || !crc.is_string()) {
      problems.push_back(absl::StrCat(name, ": malformed manifest entry ", entry.dump()));
      continue;
    }
    const std::string path = (fs::path(dir) / name).string();
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path, ec))) {
      problems.push_back(absl::StrCat(name, ": missing"));
      continue;
    }
    auto digest = digest_file(path);
    if (!digest.ok()) {
      problems.push_back(absl::StrCat(name, ": ", digest.status().message()));
      continue;
    }
    const uint64_t expected_size = bytes.get<uint64_t>();
    if (digest->size != expected_size) {
      problems.push_back(absl::StrCat(name, ": size is ", digest->size,
                                      " bytes, the manifest says ", expected_size,
                                      " (truncated or overwritten)"));
    } else if (hex32(digest->crc32c) != crc.get<std::string>()) {
      problems.push_back(absl::StrCat(name, ": checksum mismatch (crc32c ", hex32(digest->crc32c),
                                      ", the manifest says ", crc.get<std::string>(), ")"));
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != kManifestFile && listed.count(name) == 0) {
      problems.push_back(absl::StrCat(name, ": unexpected file, not in the manifest"));
    }
  }
  if (ec) problems.push_back(absl::StrCat("cannot list the directory: ", ec.message()));

  if (problems.empty()) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat(dir, ": corrupt checkpoint: ", absl::StrJoin(problems, "; ")));
}

}  // namespace chorus::train::ckpt_internal
