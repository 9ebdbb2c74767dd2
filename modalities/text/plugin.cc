// The text modality plugin: exports the descriptor naming the text decoder and encoder.
// Built like any out-of-tree plugin (chorus_add_plugin), loaded by the host at run time.
#include "chorus/plugin.h"

#include "modalities/common/options.h"
#include "modalities/text/decoder.h"
#include "modalities/text/encoder.h"

namespace {

chorus::plugin::OptionSchema text_options() {
  return chorus::modality::merge_schemas(chorus::text::text_decoder_options(),
                                         chorus::text::text_encoder_options());
}

const chorus::plugin::Descriptor* text_descriptor() {
  static const chorus::plugin::Descriptor d = [] {
    chorus::plugin::Descriptor x;
    x.name = "text";
    x.version = "0.1.0";
    x.modality = chorus::plugin::Modality::kText;
    x.manifest_value = chorus::plugin::ManifestValue::kInline;
    x.description = "UTF-8 text: byte-level BPE tokenizer + transformer encoder (cls/mean/eos)";
    x.option_schema = &text_options;
    x.make_decoder = &chorus::text::make_text_decoder;
    x.make_encoder = &chorus::text::make_text_encoder;
    return x;
  }();
  return &d;
}

}  // namespace

CHORUS_PLUGIN(text_descriptor)
