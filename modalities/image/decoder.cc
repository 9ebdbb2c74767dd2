#include "modalities/image/decoder.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace chorus::image {
namespace {

constexpr int64_t kDefaultMaxSide = 8192;

absl::StatusOr<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("image '", path, "': cannot open file"));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("image '", path, "': read error"));
  return std::move(buf).str();
}

// Value of `name` in options, or the schema default.
nlohmann::json option(const plugin::Options& options, const plugin::OptionSchema& schema,
                      const std::string& name) {
  if (options.is_object() && options.contains(name)) return options.at(name);
  for (const auto& spec : schema) {
    if (spec.name == name) return spec.default_value;
  }
  return nullptr;
}

}  // namespace

plugin::OptionSchema image_decoder_options() {
  using plugin::OptionType;
  const PreprocessConfig d;
  return {
      {"size",
       OptionType::kInt,
       d.size,
       "output side in pixels: images become size x size",
       {},
       1,
       4096},
      {"resize",
       OptionType::kString,
       "bicubic",
       "interpolation, as torch interpolate(align_corners=False, antialias=False)",
       {"bicubic", "bilinear"}},
      {"crop",
       OptionType::kString,
       "center",
       "center: shorter side to size then central square; stretch: straight to size x size",
       {"center", "stretch"}},
      {"mean", OptionType::kFloatList, std::vector<float>(d.mean.begin(), d.mean.end()),
       "per-channel (RGB) mean subtracted from values in [0, 1] (default: CLIP's)"},
      {"std",
       OptionType::kFloatList,
       std::vector<float>(d.std.begin(), d.std.end()),
       "per-channel (RGB) standard deviation divided by (default: CLIP's)",
       {},
       1e-6,
       1e6},
      {"max_dimension",
       OptionType::kInt,
       kDefaultMaxSide,
       "largest width or height accepted, checked from the header before decoding",
       {},
       1,
       1 << 24},
      {"max_pixels",
       OptionType::kInt,
       kDefaultMaxSide * kDefaultMaxSide,
       "largest width x height accepted, checked from the header before decoding",
       {},
       1,
       1e15},
      {"augment_scale",
       OptionType::kFloatList,
       std::vector<float>{0.5f, 1.0f},
       "training augmentation: [min, max] area fraction of the random resized crop",
       {},
       1e-4,
       1.0},
      {"augment_ratio",
       OptionType::kFloatList,
       std::vector<float>{3.0f / 4.0f, 4.0f / 3.0f},
       "training augmentation: [min, max] aspect ratio (w/h) of the random resized crop",
       {},
       1e-3,
       1e3},
      {"augment_flip",
       OptionType::kFloat,
       0.5,
       "training augmentation: probability of a horizontal flip",
       {},
       0.0,
       1.0},
  };
}

absl::StatusOr<std::unique_ptr<plugin::Decoder>> make_image_decoder(
    const plugin::Options& options) {
  return plugin::Guard(
      "image decoder options", [&]() -> absl::StatusOr<std::unique_ptr<plugin::Decoder>> {
        const plugin::OptionSchema schema = image_decoder_options();
        auto get = [&](const char* name) { return option(options, schema, name); };
        auto bad = [](const std::string& name, const std::string& why) {
          return absl::InvalidArgumentError(absl::StrCat("image option '", name, "': ", why));
        };
        PreprocessConfig config;
        ImageLimits limits;
        config.size = get("size").get<int>();
        if (config.size < 1 || config.size > 4096) return bad("size", "must be in [1, 4096]");
        const std::string resize = get("resize").get<std::string>();
        if (resize == "bicubic") {
          config.resize = ResizeMode::kBicubic;
        } else if (resize == "bilinear") {
          config.resize = ResizeMode::kBilinear;
        } else {
          return bad("resize", "must be \"bicubic\" or \"bilinear\", got \"" + resize + "\"");
        }
        const std::string crop = get("crop").get<std::string>();
        if (crop == "center") {
          config.crop = CropMode::kCenter;
        } else if (crop == "stretch") {
          config.crop = CropMode::kStretch;
        } else {
          return bad("crop", "must be \"center\" or \"stretch\", got \"" + crop + "\"");
        }
        for (const char* name : {"mean", "std"}) {
          const auto v = get(name).get<std::vector<float>>();
          if (v.size() != 3) return bad(name, "needs 3 values (R, G, B)");
          auto& dst = std::string(name) == "mean" ? config.mean : config.std;
          for (int c = 0; c < 3; ++c) dst[c] = v[c];
        }
        for (float s : config.std) {
          if (!(s > 0)) return bad("std", "values must be > 0");
        }
        limits.max_dimension = get("max_dimension").get<int64_t>();
        limits.max_pixels = get("max_pixels").get<int64_t>();
        if (limits.max_dimension < 1) return bad("max_dimension", "must be >= 1");
        if (limits.max_pixels < 1) return bad("max_pixels", "must be >= 1");
        const auto scale = get("augment_scale").get<std::vector<float>>();
        const auto ratio = get("augment_ratio").get<std::vector<float>>();
        if (scale.size() != 2 || !(scale[0] > 0) || !(scale[0] <= scale[1]) || !(scale[1] <= 1)) {
          return bad("augment_scale", "needs [min, max] with 0 < min <= max <= 1");
        }
        if (ratio.size() != 2 || !(ratio[0] > 0) || !(ratio[0] <= ratio[1])) {
          return bad("augment_ratio", "needs [min, max] with 0 < min <= max");
        }
        config.crop_scale = {scale[0], scale[1]};
        config.crop_ratio = {ratio[0], ratio[1]};
        config.flip_probability = get("augment_flip").get<float>();
        if (!(config.flip_probability >= 0 && config.flip_probability <= 1)) {
          return bad("augment_flip", "must be a probability in [0, 1]");
        }
        return std::unique_ptr<plugin::Decoder>(new ImageDecoder(config, limits));
      });
}

absl::StatusOr<data::Sample> ImageDecoder::decode_file(const std::string& path,
                                                       const data::DecodeOptions& options) const {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return decode_named(*bytes, path, options);
}

absl::StatusOr<data::Sample> ImageDecoder::decode_bytes(std::string_view bytes,
                                                        const data::DecodeOptions& options) const {
  return decode_named(bytes, "<bytes>", options);
}

absl::StatusOr<data::Sample> ImageDecoder::decode_named(std::string_view bytes,
                                                        const std::string& name,
                                                        const data::DecodeOptions& options) const {
  const std::string what = absl::StrCat("image '", name, "'");
  return plugin::Guard(what, [&]() -> absl::StatusOr<data::Sample> {
    auto decoded = decode_image(bytes, limits_);
    if (!decoded.ok()) {
      return absl::Status(decoded.status().code(),
                          absl::StrCat(what, ": ", decoded.status().message()));
    }
    const PlanarImage img = preprocess(*decoded, config_, options.augment, options.seed);
    Tensor pixels = Tensor::empty({3, img.height, img.width}, DType::kF32);
    std::memcpy(pixels.data<float>(), img.data.data(), img.data.size() * sizeof(float));
    data::Sample sample;
    sample.tensors.emplace("pixels", std::move(pixels));
    sample.metadata = {{"width", decoded->width},
                       {"height", decoded->height},
                       {"channels", decoded->source_channels},
                       {"format", decoded->format}};
    return sample;
  });
}

absl::StatusOr<data::Batch> ImageDecoder::collate(const std::vector<data::Sample>& samples) const {
  return plugin::Guard("image collate", [&]() -> absl::StatusOr<data::Batch> {
    if (samples.empty()) return absl::InvalidArgumentError("image collate: no samples");
    const Shape shape = {3, config_.size, config_.size};
    const int64_t per = shape_numel(shape);
    const int64_t b = static_cast<int64_t>(samples.size());
    Tensor pixels = Tensor::empty({b, 3, config_.size, config_.size}, DType::kF32);
    float* dst = pixels.data<float>();
    for (int64_t i = 0; i < b; ++i) {
      auto it = samples[i].tensors.find("pixels");
      if (it == samples[i].tensors.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("image collate: sample ", i, " has no \"pixels\" tensor"));
      }
      const Tensor& t = it->second;
      if (t.shape() != shape || t.dtype() != DType::kF32) {
        return absl::InvalidArgumentError(
            absl::StrCat("image collate: sample ", i, " pixels are ", shape_str(t.shape()), " ",
                         dtype_name(t.dtype()), ", expected ", shape_str(shape), " f32"));
      }
      const Tensor c = t.contiguous();
      std::memcpy(dst + i * per, c.data<float>(), static_cast<size_t>(per) * sizeof(float));
    }
    data::Batch batch;
    batch.tensors.emplace("pixels", std::move(pixels));
    batch.size = b;
    return batch;
  });
}

}  // namespace chorus::image
