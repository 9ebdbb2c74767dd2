#include "modalities/image/image_io.h"

#include <stb/stb_image.h>

#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "modalities/image/jpeg_guard.h"

namespace chorus::image {

std::string sniff_image_format(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
  if (starts("\x89PNG\r\n\x1a\n")) return "png";
  if (starts("\xff\xd8\xff")) return "jpeg";
  if (starts("BM")) return "bmp";
  if (starts("GIF87a") || starts("GIF89a")) return "gif";
  // Only binary PNM (P5 grey, P6 colour) is supported by stb_image.
  if (b.size() >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6')) return "pnm";
  return "";
}

namespace {

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint32_t be16(const unsigned char* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t le16(const unsigned char* p) { return uint32_t{p[0]} | (uint32_t{p[1]} << 8); }
int64_t le32s(const unsigned char* p) {
  return static_cast<int32_t>(le16(p) | (le16(p + 2) << 16));
}

// Width and height as the header states them, read here rather than through stbi_info: stb
// refuses headers whose pixel count it could not allocate ("too large"), which would report a
// 60000x60000 PNG as corrupt instead of naming its size. False when the header is too short.
bool header_dimensions(std::string_view b, const std::string& format, int64_t* w, int64_t* h) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  if (format == "png" && b.size() >= 24 && b.substr(12, 4) == "IHDR") {
    *w = be32(p + 16);
    *h = be32(p + 20);
    return true;
  }
  if (format == "gif" && b.size() >= 10) {
    *w = le16(p + 6);
    *h = le16(p + 8);
    return true;
  }
  if (format == "bmp" && b.size() >= 26) {
    *w = le32s(p + 18);
    *h = le32s(p + 22);
    if (*h < 0) *h = -*h;  // negative height: rows stored top-down
    return true;
  }
  if (format == "jpeg") {  // walk the marker segments up to the first start-of-frame
    size_t i = 2;
    while (i + 9 <= b.size() && p[i] == 0xFF) {
      const unsigned marker = p[i + 1];
      const bool sof =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        *h = be16(p + i + 5);
        *w = be16(p + i + 7);
        return true;
      }
      i += 2 + be16(p + i + 2);
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<RgbImage> decode_image(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty input (0 bytes), not an image");
  const std::string format = sniff_image_format(bytes);
  if (format.empty()) {
    return absl::InvalidArgumentError(
        "unrecognised image format (wrong magic bytes); supported: PNG, JPEG, BMP, GIF, "
        "binary PNM");
  }
  // stb_image takes an int length; anything near 2 GiB is far beyond max_pixels anyway.
  if (bytes.size() > (1u << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat(format, " file of ", bytes.size(), " bytes is larger than the 1 GiB limit"));
  }
  // Before any stb call: stbi_info parses JPEG Huffman tables too (see jpeg_guard.h).
  if (format == "jpeg") {
    if (std::string problem = check_jpeg_huffman_tables(bytes); !problem.empty()) {
      return absl::InvalidArgumentError(problem);
    }
  }
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());

  // Header only: refuse empty and oversized images before allocating their pixels.
  int64_t hw = 0, hh = 0;
  int w = 0, h = 0, comp = 0;
  const bool stated = header_dimensions(bytes, format, &hw, &hh);
  if (!stated) {
    // stbi_info tries every format in turn, so its failure reason names the last one tried,
    // not this file's: leave it out.
    if (!stbi_info_from_memory(data, len, &w, &h, &comp)) {
      return absl::InvalidArgumentError(absl::StrCat("corrupt or truncated ", format, " header"));
    }
    hw = w;
    hh = h;
  }
  if (hw <= 0 || hh <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(format, " header gives an empty image (", hw, "x", hh, ")"));
  }
  if (hw > limits.max_dimension || hh > limits.max_dimension || hw * hh > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat(
        format, " header claims ", hw, "x", hh, " pixels, over the limit of ", limits.max_dimension,
        " per side and ", limits.max_pixels, " in total (options max_dimension, max_pixels)"));
  }
  if (stated && !stbi_info_from_memory(data, len, &w, &h, &comp)) {
    return absl::InvalidArgumentError(absl::StrCat("corrupt or truncated ", format, " header"));
  }
  if (w != hw || h != hh) {  // our reading and stb's disagree: trust neither
    return absl::InvalidArgumentError(
        absl::StrCat(format, " header is inconsistent (", hw, "x", hh, " vs ", w, "x", h, ")"));
  }

  int dw = 0, dh = 0, dc = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, len, &dw, &dh, &dc, 3), stbi_image_free);
  if (!pixels) {
    // stb probes PNG's signature before the other formats and some loaders fail without
    // setting a reason of their own, so "bad png sig" may be left over from the probe.
    const char* reason = stbi_failure_reason();
    const bool stale =
        reason == nullptr || (format != "png" && std::strcmp(reason, "bad png sig") == 0);
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt or truncated ", format, " data",
                     stale ? std::string() : absl::StrCat(" (stb_image: ", reason, ")")));
  }
  if (dw != w || dh != h) {  // stbi_info and the decoder disagree: treat as corrupt
    return absl::InvalidArgumentError(absl::StrCat(format, " header says ", w, "x", h,
                                                   " but the decoder produced ", dw, "x", dh));
  }
  RgbImage out;
  out.width = w;
  out.height = h;
  out.source_channels = dc;
  out.format = format;
  out.rgb.assign(pixels.get(), pixels.get() + static_cast<size_t>(w) * h * 3);
  return out;
}

}  // namespace chorus::image
