// `chorus data bench MANIFEST`: loader throughput (samples/s) with built-in decoders — stb_image
// for images (grey -> f32 [1, H, W] in [0, 1]), a 16-bit PCM WAV reader for audio (f32 [T],
// cropped/padded to 1 s), UTF-8 bytes for text (i64 [64], zero-padded) — so the data pipeline is
// measured on its own, without the modality plugins' preprocessing.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/data/collate.h"
#include "core/data/loader.h"
#include "tools/chorus/commands.h"
#include "tools/chorus/data_speech.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include "stb/stb_image.h"

namespace chorus::cli {
namespace {

absl::StatusOr<data::Sample> decode_image(const std::string& path, const data::DecodeOptions&) {
  int w = 0, h = 0, c = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &c, 1);
  if (pixels == nullptr) {
    return absl::DataLossError(absl::StrCat(path, ": ", stbi_failure_reason()));
  }
  Tensor t = Tensor::empty({1, h, w});
  float* out = t.data<float>();
  for (int64_t i = 0; i < int64_t{w} * h; ++i) out[i] = pixels[i] / 255.0f;
  stbi_image_free(pixels);
  data::Sample s;
  s.tensors["pixels"] = t;
  s.metadata = {{"width", w}, {"height", h}};
  return s;
}

absl::StatusOr<data::Sample> decode_wav(const std::string& path, const data::DecodeOptions&) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto pcm = parse_wav(bytes.str());
  if (!pcm.ok()) return absl::DataLossError(absl::StrCat(path, ": ", pcm.status().message()));
  const int64_t n = pcm->rate;  // one second
  Tensor t = Tensor::zeros({n});
  float* out = t.data<float>();
  for (int64_t i = 0; i < n && i < static_cast<int64_t>(pcm->samples.size()); ++i) {
    out[i] = pcm->samples[i] / 32768.0f;
  }
  data::Sample s;
  s.tensors["wave"] = t;
  return s;
}

absl::StatusOr<data::Sample> decode_text(const std::string& text, const data::DecodeOptions&) {
  std::vector<int64_t> ids(64, 0);
  for (size_t i = 0; i < text.size() && i < ids.size(); ++i) ids[i] = static_cast<uint8_t>(text[i]);
  data::Sample s;
  s.tensors["ids"] = Tensor::from_vector(ids, {64});
  return s;
}

}  // namespace

int run_data_bench(const std::vector<std::string>& args) {
  std::string manifest;
  data::LoaderOptions o;
  o.batch_size = 256;
  o.workers = 2;
  o.prefetch = 4;
  int64_t batches = 100;
  std::vector<std::string> modalities = {"image"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "--workers") {
      o.workers = std::stoi(value());
    } else if (a == "--batch") {
      o.batch_size = std::stoll(value());
    } else if (a == "--batches") {
      batches = std::stoll(value());
    } else if (a == "--prefetch") {
      o.prefetch = std::stoi(value());
    } else if (a == "--modalities") {
      modalities.clear();
      std::stringstream list(value());
      for (std::string m; std::getline(list, m, ',');) modalities.push_back(m);
    } else if (a == "--help" || a == "-h" || (!a.empty() && a[0] == '-')) {
      std::cout << "usage: chorus data bench MANIFEST [--workers 2] [--batch 256] [--batches 100]\n"
                   "         [--prefetch 4] [--modalities image,audio,text]\n";
      return a[1] == 'h' || a == "--help" ? 0 : 2;
    } else {
      manifest = a;
    }
  }
  if (manifest.empty()) {
    std::cerr << "chorus data bench: no manifest (e.g. data/fmnist/train.jsonl)\n";
    return 2;
  }
  auto m = data::read_manifest(manifest);
  if (!m.ok()) {
    std::cerr << "chorus data bench: " << m.status().message() << "\n";
    return 1;
  }
  auto source = data::MixedSource::single(*std::move(m));
  if (!source.ok()) {
    std::cerr << "chorus data bench: " << source.status().message() << "\n";
    return 1;
  }
  std::map<std::string, data::Codec> codecs;
  for (const std::string& name : modalities) {
    if (name == "image")
      codecs[name] = {decode_image, data::stack_collate};
    else if (name == "audio")
      codecs[name] = {decode_wav, data::stack_collate};
    else if (name == "text")
      codecs[name] = {decode_text, data::stack_collate};
    else {
      std::cerr << "chorus data bench: unknown modality '" << name << "'\n";
      return 2;
    }
  }
  auto loader = data::Loader::create(std::make_shared<const data::MixedSource>(*std::move(source)),
                                     codecs, o);
  if (!loader.ok()) {
    std::cerr << "chorus data bench: " << loader.status().message() << "\n";
    return 1;
  }
  // The first batch includes thread start-up and cold caches; time the rest.
  auto first = (*loader)->next();
  if (!first.ok()) {
    std::cerr << "chorus data bench: " << first.status().message() << "\n";
    return 1;
  }
  const data::LoaderStats s0 = (*loader)->stats();
  const auto t0 = std::chrono::steady_clock::now();
  int64_t samples = 0;
  for (int64_t b = 0; b < batches; ++b) {
    auto batch = (*loader)->next();
    if (!batch.ok()) {
      std::cerr << "chorus data bench: " << batch.status().message() << "\n";
      return 1;
    }
    samples += (*batch)->size;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const data::LoaderStats s = (*loader)->stats();
  const double wait = s.wait_seconds - s0.wait_seconds;
  std::cout << "chorus data bench: " << manifest << ", modalities";
  for (const std::string& name : modalities) std::cout << " " << name;
  std::cout << ", " << o.workers << " workers, batch " << o.batch_size << "\n"
            << "  " << samples << " samples in " << secs << " s: " << samples / secs
            << " samples/s; consumer waited " << wait << " s (" << 100 * wait / secs
            << "%); worker time per sample "
            << 1e6 * (s.decode_seconds - s0.decode_seconds) / samples << " us\n"
            << "  stats: " << s.to_json().dump() << "\n";
  return 0;
}

}  // namespace chorus::cli
