// Reading and writing safetensors files (the weight format PyTorch and Hugging Face tools read).
//
//   auto st = save_safetensors("w.safetensors", {{"w", w}, {"b", b}}, {{"step", "10"}});
//   auto file = SafetensorsFile::Open("w.safetensors");   // validates the header only
//   absl::StatusOr<Tensor> w = file->load("w");           // copies just that tensor
//
// Malformed files are reported as a Status naming the file and the problem (see
// safetensors_header.h for the checks); nothing reads outside the file.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/safetensors_header.h"
#include "core/tensor/tensor.h"

namespace chorus {

// Writes `tensors` (in that order in the data buffer, except that wider dtypes come first so
// every tensor is aligned to its element size) and `metadata`. Tensors may be non-contiguous;
// they are written contiguous. CPU tensors only for now.
//
// The file is written under a temporary name in the same directory, flushed to disk, then
// renamed over `path`: an existing file is either fully replaced or left untouched.
// (A std::map<std::string, Tensor> converts with {m.begin(), m.end()}.)
absl::Status save_safetensors(const std::string& path,
                              const std::vector<std::pair<std::string, Tensor>>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

// A safetensors file mapped into memory. Open() parses and validates the header; tensor bytes
// are touched only when loaded. Copies share the mapping, which lives until the last copy
// (and the last view tensor, see load_view) is gone.
//
// The file is opened read-only and mapped MAP_PRIVATE, so it is never modified. The mapping
// is writable copy-on-write so that view tensors can be written like any tensor; pages that
// are never written cost no memory beyond the page cache. Truncating the file on disk while it
// is mapped makes later reads fault (SIGBUS), as with any mmap reader.
class SafetensorsFile {
 public:
  static absl::StatusOr<SafetensorsFile> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // Tensor names in the order their bytes appear in the file.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  // Dtype, shape and byte range (relative to the data buffer); NotFound for an unknown name.
  absl::StatusOr<SafetensorsTensorInfo> info(const std::string& name) const;

  // A fresh, contiguous CPU tensor holding a copy of the tensor's bytes.
  absl::StatusOr<Tensor> load(const std::string& name) const;
  // Zero-copy: a tensor whose Storage points into the mapping and keeps it alive. Writes to it
  // stay private to this process. Falls back to a copy when the bytes are not aligned to the
  // element size (files written by save_safetensors always are).
  absl::StatusOr<Tensor> load_view(const std::string& name) const;
  absl::StatusOr<std::map<std::string, Tensor>> load_all() const;

 private:
  struct Mapping;
  SafetensorsFile(std::string path, std::shared_ptr<const Mapping> mapping,
                  SafetensorsHeader header);
  absl::StatusOr<const SafetensorsTensorInfo*> find(const std::string& name) const;
  const char* bytes(const SafetensorsTensorInfo& info) const;

  std::string path_;
  std::shared_ptr<const Mapping> mapping_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;  // name -> position in header_.tensors
};

}  // namespace chorus
