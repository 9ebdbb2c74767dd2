#include "modalities/image/image_io.h"

#include <stb/stb_image.h>

#include <cctype>
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

// A binary PNM header (P5/P6): magic, then width, height and maxval as decimal numbers
// separated by whitespace and '#' comments, the way stb_image reads them. stb accumulates each
// number in an int without an overflow check (signed overflow, found by the image fuzzer), so
// numbers are read here first and anything over 9 digits is refused before stb sees it.
struct PnmHeader {
  int64_t width = 0, height = 0, maxval = 0;
  size_t data_offset = 0;  // first pixel byte: one whitespace byte after maxval
  std::string problem;     // empty when the three numbers were read
};

PnmHeader read_pnm_header(std::string_view b) {
  PnmHeader out;
  size_t i = 2;
  int64_t* fields[3] = {&out.width, &out.height, &out.maxval};
  const char* names[3] = {"width", "height", "maxval"};
  for (int f = 0; f < 3; ++f) {
    while (i < b.size() && (std::isspace(static_cast<unsigned char>(b[i])) || b[i] == '#')) {
      if (b[i] == '#') {
        while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
      } else {
        ++i;
      }
    }
    const size_t start = i;
    int64_t v = 0;
    while (i < b.size() && b[i] >= '0' && b[i] <= '9') {
      if (i - start >= 9) {
        out.problem = absl::StrCat("pnm header ", names[f], " has more than 9 digits");
        return out;
      }
      v = v * 10 + (b[i++] - '0');
    }
    if (i == start) {
      out.problem = absl::StrCat("corrupt or truncated pnm header (no ", names[f], ")");
      return out;
    }
    *fields[f] = v;
  }
  // 16-bit PNM (maxval > 255) is refused: stb_image 2.27 reads past its buffer converting it
  // to 8 bits (heap overflow found by the image fuzzer).
  if (out.maxval < 1 || out.maxval > 255) {
    out.problem = absl::StrCat("pnm header maxval ", out.maxval,
                               ": only 8-bit PNM (maxval 1..255) is supported");
  }
  out.data_offset = i + 1;
  return out;
}

// stb_image grows its compressed-data buffer to what each IDAT chunk declares before reading
// it, so a 200-byte PNG declaring a 1 GiB chunk makes it allocate 2 GiB (found by the image
// fuzzer). Chunks are walked here first: each one's declared length must fit in the file.
std::string check_png_chunks(std::string_view b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  size_t i = 8;  // after the signature
  while (i + 8 <= b.size()) {
    const uint64_t length = be32(p + i);
    const std::string type(b.substr(i + 4, 4));
    if (length > b.size() - i - 8) {
      return absl::StrCat("truncated png: chunk '", type, "' at byte ", i, " declares ", length,
                          " bytes, ", b.size() - i - 8, " remain");
    }
    if (type == "IEND") break;
    i += 12 + length;  // length, type, data, CRC
  }
  return "";
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
  if (format == "png") {
    if (std::string problem = check_png_chunks(bytes); !problem.empty()) {
      return absl::InvalidArgumentError(problem);
    }
  }
  PnmHeader pnm;
  if (format == "pnm") {
    pnm = read_pnm_header(bytes);
    if (!pnm.problem.empty()) return absl::InvalidArgumentError(pnm.problem);
  }
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());

  // Header only: refuse empty and oversized images before allocating their pixels.
  int64_t hw = pnm.width, hh = pnm.height;
  int w = 0, h = 0, comp = 0;
  const bool stated = format == "pnm" || header_dimensions(bytes, format, &hw, &hh);
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
  if (format == "pnm") {  // stb fills a short pixel section with whatever memory follows
    const int64_t need = hw * hh * (bytes[1] == '6' ? 3 : 1);  // P6 RGB, P5 grey; 8-bit
    const int64_t have = static_cast<int64_t>(bytes.size()) - static_cast<int64_t>(pnm.data_offset);
    if (have < need) {
      return absl::InvalidArgumentError(
          absl::StrCat("truncated pnm: ", std::max<int64_t>(have, 0), " pixel bytes of ", need));
    }
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
