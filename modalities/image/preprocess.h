// The image pipeline after decoding: geometry (resize + crop, or a seeded random resized crop
// and flip), then per-channel normalisation. Produces the "pixels" values of a Sample.
#pragma once

#include <array>
#include <cstdint>

#include "modalities/image/image_io.h"
#include "modalities/image/resize.h"

namespace chorus::image {

enum class CropMode {
  kCenter,   // resize the shorter side to `size`, then take the central size x size square
  kStretch,  // resize straight to size x size (aspect ratio not kept)
};

struct PreprocessConfig {
  int size = 224;  // output is size x size
  ResizeMode resize = ResizeMode::kBicubic;
  CropMode crop = CropMode::kCenter;
  // CLIP's statistics (OpenAI CLIP preprocessing), applied to values in [0, 1].
  std::array<float, 3> mean = {0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std = {0.26862954f, 0.26130258f, 0.27577711f};
  // Training-time augmentation (DecodeOptions::augment): torchvision's RandomResizedCrop with
  // these area-fraction and aspect-ratio ranges, then a horizontal flip with probability
  // flip_probability.
  std::array<float, 2> crop_scale = {0.5f, 1.0f};
  std::array<float, 2> crop_ratio = {3.0f / 4.0f, 4.0f / 3.0f};
  float flip_probability = 0.5f;
};

// Crop window in source pixels.
struct CropBox {
  int top = 0, left = 0, height = 0, width = 0;
};

// torchvision.transforms.RandomResizedCrop.get_params, drawing from Philox(seed): up to ten
// tries for a window with the sampled area and aspect ratio, else the central crop with the
// ratio clamped to the range.
CropBox random_resized_crop_box(int height, int width, const PreprocessConfig& config,
                                uint64_t seed);

// 8-bit RGB -> planar floats in [0, 1].
PlanarImage to_planar(const RgbImage& image);

// The whole pipeline. With augment = false the result depends on the image only.
PlanarImage preprocess(const RgbImage& image, const PreprocessConfig& config, bool augment,
                       uint64_t seed);

}  // namespace chorus::image
