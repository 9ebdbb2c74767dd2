#include "tools/chorus/fashion_mnist.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace chorus::cli {
namespace {

absl::StatusOr<std::vector<uint8_t>> read_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat(path,
                                            ": cannot open (is the Debian package "
                                            "dataset-fashion-mnist installed?)"));
  }
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.insert(out.end(), buf, buf + n);
  int err = 0;
  const char* msg = gzerror(f, &err);
  const bool failed = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  const std::string what = failed ? std::string(msg) : "";
  gzclose(f);
  if (failed) return absl::DataLossError(absl::StrCat(path, ": corrupt gzip data: ", what));
  return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}

}  // namespace

absl::StatusOr<FashionMnistSplit> load_fashion_mnist(const std::string& dir,
                                                     const std::string& split) {
  const std::string images_path = absl::StrCat(dir, "/", split, "-images-idx3-ubyte.gz");
  const std::string labels_path = absl::StrCat(dir, "/", split, "-labels-idx1-ubyte.gz");
  auto images = read_gzip(images_path);
  if (!images.ok()) return images.status();
  auto labels = read_gzip(labels_path);
  if (!labels.ok()) return labels.status();

  if (images->size() < 16 || be32(*images, 0) != 0x803) {
    return absl::DataLossError(absl::StrCat(images_path, ": not an IDX3 image file"));
  }
  if (labels->size() < 8 || be32(*labels, 0) != 0x801) {
    return absl::DataLossError(absl::StrCat(labels_path, ": not an IDX1 label file"));
  }
  FashionMnistSplit out;
  out.count = be32(*images, 4);
  out.rows = be32(*images, 8);
  out.cols = be32(*images, 12);
  const uint64_t pixels = static_cast<uint64_t>(out.count) * out.rows * out.cols;
  if (images->size() - 16 != pixels) {
    return absl::DataLossError(absl::StrCat(images_path, ": header promises ", pixels,
                                            " pixels, file holds ", images->size() - 16));
  }
  if (be32(*labels, 4) != static_cast<uint32_t>(out.count) ||
      labels->size() - 8 != static_cast<uint64_t>(out.count)) {
    return absl::DataLossError(
        absl::StrCat(labels_path, ": label count does not match ", out.count, " images"));
  }
  out.pixels.assign(images->begin() + 16, images->end());
  out.labels.assign(labels->begin() + 8, labels->end());
  for (uint8_t l : out.labels) {
    if (l >= 10)
      return absl::DataLossError(absl::StrCat(labels_path, ": label ", int{l}, " >= 10"));
  }
  return out;
}

}  // namespace chorus::cli
