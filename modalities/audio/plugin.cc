// The audio modality plugin: exports the descriptor naming the audio decoder and encoder.
// Built like any out-of-tree plugin (chorus_add_plugin), loaded by the host at run time.
#include "chorus/plugin.h"

#include "modalities/audio/decoder.h"
#include "modalities/audio/encoder.h"
#include "modalities/common/options.h"

namespace {

chorus::plugin::OptionSchema audio_options() {
  return chorus::modality::merge_schemas(chorus::audio::audio_decoder_options(),
                                         chorus::audio::audio_encoder_options());
}

const chorus::plugin::Descriptor* audio_descriptor() {
  static const chorus::plugin::Descriptor d = [] {
    chorus::plugin::Descriptor x;
    x.name = "audio";
    x.version = "0.1.0";
    x.modality = chorus::plugin::Modality::kAudio;
    x.manifest_value = chorus::plugin::ManifestValue::kPath;
    x.description =
        "Audio (WAV, FLAC, OGG via libsndfile; MP3, M4A, AAC, video soundtracks via FFmpeg) as 16 "
        "kHz Whisper log-mel; conv or patch front-end + transformer encoder";
    x.option_schema = &audio_options;
    x.make_decoder = &chorus::audio::make_audio_decoder;
    x.make_encoder = &chorus::audio::make_audio_encoder;
    return x;
  }();
  return &d;
}

}  // namespace

CHORUS_PLUGIN(audio_descriptor)
