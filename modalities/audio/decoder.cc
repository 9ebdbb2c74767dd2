#include "modalities/audio/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/tensor/philox.h"

namespace chorus::audio {
namespace {

absl::StatusOr<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("audio '", path, "': cannot open file"));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("audio '", path, "': read error"));
  return std::move(buf).str();
}

nlohmann::json option(const plugin::Options& options, const plugin::OptionSchema& schema,
                      const std::string& name) {
  if (options.is_object() && options.contains(name)) return options.at(name);
  for (const auto& spec : schema) {
    if (spec.name == name) return spec.default_value;
  }
  return nullptr;
}

}  // namespace

plugin::OptionSchema audio_decoder_options() {
  using plugin::OptionType;
  return {
      {"n_mels",
       OptionType::kInt,
       80,
       "mel bins of the log-mel front-end (Whisper: 80, or 128 for large-v3)",
       {},
       8,
       512},
      {"seconds",
       OptionType::kFloat,
       0.0,
       "crop or zero-pad every clip to this many seconds (Whisper: 30); 0 keeps each length",
       {},
       0.0,
       3600.0},
      {"random_crop", OptionType::kBool, true,
       "when augmenting, clips longer than `seconds` keep a seeded random window (else the start)"},
      {"max_seconds",
       OptionType::kFloat,
       600.0,
       "longest input accepted (checked from the header where it says), in seconds",
       {},
       0.01,
       1e6},
  };
}

absl::StatusOr<std::unique_ptr<plugin::Decoder>> make_audio_decoder(
    const plugin::Options& options) {
  return plugin::Guard(
      "audio decoder options", [&]() -> absl::StatusOr<std::unique_ptr<plugin::Decoder>> {
        const plugin::OptionSchema schema = audio_decoder_options();
        auto get = [&](const char* name) { return option(options, schema, name); };
        auto bad = [](const std::string& name, const std::string& why) {
          return absl::InvalidArgumentError(absl::StrCat("audio option '", name, "': ", why));
        };
        AudioConfig config;
        config.n_mels = get("n_mels").get<int>();
        if (config.n_mels < 8 || config.n_mels > 512) return bad("n_mels", "must be in [8, 512]");
        config.seconds = get("seconds").get<double>();
        if (!(config.seconds >= 0 && config.seconds <= 3600)) {
          return bad("seconds", "must be in [0, 3600]");
        }
        if (config.seconds > 0 && config.seconds * kSampleRate < kHop) {
          return bad("seconds", "must be 0 or at least one 10 ms frame");
        }
        config.random_crop = get("random_crop").get<bool>();
        config.limits.max_seconds = get("max_seconds").get<double>();
        if (!(config.limits.max_seconds > 0)) return bad("max_seconds", "must be > 0");
        return std::unique_ptr<plugin::Decoder>(new AudioDecoder(config));
      });
}

std::shared_ptr<const Resampler> AudioDecoder::resampler_for(int rate) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = resamplers_[rate];
  if (!slot) slot = std::make_shared<const Resampler>(rate, kSampleRate);
  return slot;
}

absl::StatusOr<data::Sample> AudioDecoder::decode_file(const std::string& path,
                                                       const data::DecodeOptions& options) const {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return decode_named(*bytes, path, options);
}

absl::StatusOr<data::Sample> AudioDecoder::decode_bytes(std::string_view bytes,
                                                        const data::DecodeOptions& options) const {
  return decode_named(bytes, "<bytes>", options);
}

absl::StatusOr<data::Sample> AudioDecoder::decode_named(std::string_view bytes,
                                                        const std::string& name,
                                                        const data::DecodeOptions& options) const {
  const std::string what = absl::StrCat("audio '", name, "'");
  return plugin::Guard(what, [&]() -> absl::StatusOr<data::Sample> {
    auto decoded = decode_audio(bytes, config_.limits);
    if (!decoded.ok()) {
      return absl::Status(decoded.status().code(),
                          absl::StrCat(what, ": ", decoded.status().message()));
    }
    const double duration = static_cast<double>(decoded->samples.size()) / decoded->sample_rate;
    std::vector<float> pcm =
        decoded->sample_rate == kSampleRate
            ? std::move(decoded->samples)
            : resampler_for(decoded->sample_rate)
                  ->process(decoded->samples.data(), static_cast<int64_t>(decoded->samples.size()));
    int64_t real = static_cast<int64_t>(pcm.size());  // samples of audio kept
    int64_t offset = 0;
    if (config_.seconds > 0) {
      const int64_t target = static_cast<int64_t>(std::llround(config_.seconds * kSampleRate));
      if (real > target) {
        if (options.augment && config_.random_crop) {
          offset = static_cast<int64_t>(philox_word(options.seed, 0, 0) % (real - target + 1));
        }
        pcm.erase(pcm.begin(), pcm.begin() + offset);
        real = target;
      }
      pcm.resize(static_cast<size_t>(target), 0.0f);  // crop the tail or pad with silence
    } else if (real < kHop) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": clip is ", real,
                       " samples at 16 kHz, shorter than one 10 ms "
                       "frame (set option `seconds` to pad short clips)"));
    }
    const LogMelResult mel = mel_.compute(pcm.data(), static_cast<int64_t>(pcm.size()));
    const int64_t real_frames = std::min<int64_t>(mel.frames, (real + kHop - 1) / kHop);
    Tensor values = Tensor::empty({config_.n_mels, mel.frames}, DType::kF32);
    std::memcpy(values.data<float>(), mel.values.data(), mel.values.size() * sizeof(float));
    Tensor mask = Tensor::zeros({mel.frames}, DType::kU8);
    std::fill(mask.data<uint8_t>(), mask.data<uint8_t>() + real_frames, uint8_t{1});
    data::Sample sample;
    sample.tensors.emplace("mel", std::move(values));
    sample.tensors.emplace("mask", std::move(mask));
    sample.metadata = {{"duration", duration},
                       {"sample_rate", decoded->sample_rate},
                       {"channels", decoded->channels},
                       {"format", decoded->format},
                       {"offset", static_cast<double>(offset) / kSampleRate},
                       {"mel_floor", mel.floor}};
    return sample;
  });
}

absl::StatusOr<data::Batch> AudioDecoder::collate(const std::vector<data::Sample>& samples) const {
  return plugin::Guard("audio collate", [&]() -> absl::StatusOr<data::Batch> {
    if (samples.empty()) return absl::InvalidArgumentError("audio collate: no samples");
    const int64_t b = static_cast<int64_t>(samples.size());
    const int64_t n_mels = config_.n_mels;
    int64_t t_max = 0;
    for (int64_t i = 0; i < b; ++i) {
      auto it = samples[i].tensors.find("mel");
      if (it == samples[i].tensors.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("audio collate: sample ", i, " has no \"mel\" tensor"));
      }
      const Tensor& t = it->second;
      if (t.dim() != 2 || t.shape()[0] != n_mels || t.dtype() != DType::kF32) {
        return absl::InvalidArgumentError(
            absl::StrCat("audio collate: sample ", i, " mel is ", shape_str(t.shape()), " ",
                         dtype_name(t.dtype()), ", expected [", n_mels, ", frames] f32"));
      }
      t_max = std::max(t_max, t.shape()[1]);
    }
    Tensor mel = Tensor::empty({b, n_mels, t_max}, DType::kF32);
    Tensor mask = Tensor::zeros({b, t_max}, DType::kU8);
    float* dst = mel.data<float>();
    uint8_t* mdst = mask.data<uint8_t>();
    for (int64_t i = 0; i < b; ++i) {
      const Tensor src = samples[i].tensors.at("mel").contiguous();
      const int64_t frames = src.shape()[1];
      const float* s = src.data<float>();
      float pad = 0;
      if (auto it = samples[i].metadata.find("mel_floor"); it != samples[i].metadata.end()) {
        pad = it->get<float>();
      } else if (frames > 0) {
        pad = *std::min_element(s, s + n_mels * frames);
      }
      for (int64_t m = 0; m < n_mels; ++m) {
        float* row = dst + (i * n_mels + m) * t_max;
        std::copy(s + m * frames, s + (m + 1) * frames, row);
        std::fill(row + frames, row + t_max, pad);
      }
      auto mit = samples[i].tensors.find("mask");
      if (mit != samples[i].tensors.end() && mit->second.numel() == frames) {
        const Tensor m = mit->second.contiguous().to(DType::kU8);
        std::copy(m.data<uint8_t>(), m.data<uint8_t>() + frames, mdst + i * t_max);
      } else {
        std::fill(mdst + i * t_max, mdst + i * t_max + frames, uint8_t{1});
      }
    }
    data::Batch batch;
    batch.tensors.emplace("mel", std::move(mel));
    batch.tensors.emplace("mask", std::move(mask));
    batch.size = b;
    return batch;
  });
}

}  // namespace chorus::audio
