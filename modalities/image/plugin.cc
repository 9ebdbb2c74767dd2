// The image modality plugin: exports the descriptor naming the image decoder and encoder.
// Built like any out-of-tree plugin (chorus_add_plugin), loaded by the host at run time.
#include "chorus/plugin.h"

#include "modalities/common/options.h"
#include "modalities/image/decoder.h"
#include "modalities/image/encoder.h"

namespace {

chorus::plugin::OptionSchema image_options() {
  return chorus::modality::merge_schemas(chorus::image::image_decoder_options(),
                                         chorus::image::image_encoder_options());
}

const chorus::plugin::Descriptor* image_descriptor() {
  static const chorus::plugin::Descriptor d = [] {
    chorus::plugin::Descriptor x;
    x.name = "image";
    x.version = "0.1.0";
    x.modality = chorus::plugin::Modality::kImage;
    x.manifest_value = chorus::plugin::ManifestValue::kPath;
    x.description =
        "Images (PNG, JPEG, BMP, GIF, PNM) via stb_image: resize, crop, CLIP normalisation, seeded "
        "augmentation; ViT or conv-stem transformer encoder";
    x.option_schema = &image_options;
    x.make_decoder = &chorus::image::make_image_decoder;
    x.make_encoder = &chorus::image::make_image_encoder;
    return x;
  }();
  return &d;
}

}  // namespace

CHORUS_PLUGIN(image_descriptor)
