// `chorus data prepare-fmnist`: Fashion-MNIST (Debian's dataset-fashion-mnist) as a multimodal
// set: PNG images, template captions and espeak-ng spoken captions, with JSONL manifests.
// Idempotent: files that already exist are kept (writes go to a temporary name and are renamed,
// so an interrupted run never leaves a truncated file behind); manifests are rewritten and every
// referenced file is verified at the end.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tools/chorus/commands.h"
#include "tools/chorus/data_captions.h"
#include "tools/chorus/data_speech.h"
#include "tools/chorus/fashion_mnist.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb/stb_image_write.h"

namespace chorus::cli {
namespace {

namespace fs = std::filesystem;

struct Plan {
  std::string split;           // "train" / "test"
  std::vector<int64_t> index;  // official indices of the selected images
};

struct Options {
  std::string out = "data/fmnist";
  std::string source = kFashionMnistDir;
  int64_t train = -1, test = -1;                         // images per split; -1 = all
  int templates = 0, train_voices = 0, test_voices = 0;  // 0 = all
  bool balanced = false;  // select the first n/10 of each class instead of the first n
  int jobs = 8;           // espeak-ng processes at once (each mostly waits on I/O)
  bool speech = true;  // false: images and captions only (no espeak-ng needed, e.g. on a GPU box)
};

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

bool nonempty_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

bool write_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()))) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

void png_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
}

// Prints "label: done/total" at every 10% (and at the end), from any thread.
class Progress {
 public:
  Progress(std::string label, int64_t total) : label_(std::move(label)), total_(total) {}
  void tick(int64_t skipped) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t d = ++done_;
    skipped_ += skipped;
    if (total_ > 0 && (d * 10 / total_ != (d - 1) * 10 / total_ || d == total_)) {
      std::cout << "  " << label_ << ": " << d << "/" << total_ << " (" << skipped_
                << " already there)\n"
                << std::flush;
    }
  }

 private:
  std::string label_;
  int64_t total_;
  int64_t done_ = 0, skipped_ = 0;
  std::mutex mu_;
};

// Runs fn(i) for i in [0, n) on `threads` threads; returns the first error.
template <class F>
absl::Status parallel_for(int64_t n, int threads, F fn) {
  std::atomic<int64_t> next{0};
  std::mutex mu;
  absl::Status first;
  auto run = [&] {
    for (int64_t i; (i = next.fetch_add(1)) < n;) {
      absl::Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = s;
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  return first;
}

std::vector<int64_t> select(const FashionMnistSplit& data, int64_t n, bool balanced) {
  std::vector<int64_t> out;
  if (n < 0 || n >= data.count) n = data.count;
  if (!balanced) {
    for (int64_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  std::vector<int64_t> per_class(10, 0);
  for (int64_t i = 0; i < data.count && static_cast<int64_t>(out.size()) < n; ++i) {
    if (per_class[data.labels[i]] < (n + 9) / 10) {
      ++per_class[data.labels[i]];
      out.push_back(i);
    }
  }
  return out;
}

struct Clip {
  int label = 0, tmpl = 0;
  Voice voice;
  std::string rel;  // wav/<split>/<file>.wav
};

absl::Status prepare(const Options& o) {
  const auto t_start = std::chrono::steady_clock::now();
  std::cout << "chorus data prepare-fmnist: " << o.source << " -> " << o.out << "\n";
  const int n_templates = o.templates > 0 ? std::min<int>(o.templates, caption_templates().size())
                                          : static_cast<int>(caption_templates().size());
  std::map<std::string, std::vector<Voice>> voices = {{"train", train_voices()},
                                                      {"test", test_voices()}};
  if (o.train_voices > 0 && o.train_voices < static_cast<int>(voices["train"].size()))
    voices["train"].resize(o.train_voices);
  if (o.test_voices > 0 && o.test_voices < static_cast<int>(voices["test"].size()))
    voices["test"].resize(o.test_voices);

  std::error_code ec;
  for (const char* split : {"train", "test"}) {
    fs::create_directories(fs::path(o.out) / "img" / split, ec);
    if (o.speech) fs::create_directories(fs::path(o.out) / "wav" / split, ec);
    if (ec) return absl::InternalError(absl::StrCat(o.out, ": cannot create: ", ec.message()));
  }

  for (const char* split : {"train", "test"}) {
    auto data = load_fashion_mnist(o.source, split == std::string("train") ? "train" : "t10k");
    if (!data.ok()) return data.status();
    const std::vector<int64_t> index =
        select(*data, split == std::string("train") ? o.train : o.test, o.balanced);
    const int64_t pixels = data->rows * data->cols;

    // Images.
    Progress img_progress(absl::StrCat(split, " images"), static_cast<int64_t>(index.size()));
    absl::Status s = parallel_for(static_cast<int64_t>(index.size()), 2, [&](int64_t k) {
      const int64_t i = index[k];
      const std::string path =
          absl::StrCat(o.out, "/img/", split, "/", absl::Dec(i, absl::kZeroPad5), ".png");
      if (nonempty_file(path)) {
        img_progress.tick(1);
        return absl::OkStatus();
      }
      std::string png;
      if (!stbi_write_png_to_func(png_to_string, &png, static_cast<int>(data->cols),
                                  static_cast<int>(data->rows), 1, &data->pixels[i * pixels],
                                  static_cast<int>(data->cols)) ||
          !write_atomically(path, png)) {
        return absl::InternalError(absl::StrCat(path, ": cannot write PNG"));
      }
      img_progress.tick(0);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;

    // Captions: template and voice per image from a hash of (split, index).
    const std::vector<Voice>& vs = voices[split];
    std::map<std::string, Clip> clips;  // rel path -> clip
    nlohmann::json lines = nlohmann::json::array();
    std::string manifest;
    for (int64_t i : index) {
      const uint64_t h = mix(mix(split == std::string("train") ? 1 : 2) ^ static_cast<uint64_t>(i));
      const int label = data->labels[i];
      const int tmpl = static_cast<int>(h % n_templates);
      const Voice& voice = vs[(h / n_templates) % vs.size()];
      const std::string rel_wav =
          absl::StrCat("wav/", split, "/c", label, "_t", tmpl, "_", voice.id(), ".wav");
      nlohmann::json line = {
          {"id", absl::StrCat("fmnist-", split, "-", absl::Dec(i, absl::kZeroPad5))},
          {"image", absl::StrCat("img/", split, "/", absl::Dec(i, absl::kZeroPad5), ".png")},
          {"text", caption(label, tmpl)},
          {"label", label},
          {"split", split},
          {"class_name", fmnist_classes()[label].name},
          {"template", tmpl}};
      if (o.speech) {
        clips.try_emplace(rel_wav, Clip{label, tmpl, voice, rel_wav});
        line["audio"] = rel_wav;
        line["voice"] = voice.name;
        line["speed"] = voice.speed;
        line["pitch"] = voice.pitch;
      }
      manifest += line.dump() + "\n";
    }

    // Spoken captions: each distinct clip once.
    std::vector<const Clip*> todo;
    for (const auto& [rel, clip] : clips) todo.push_back(&clip);
    Progress wav_progress(absl::StrCat(split, " spoken captions"),
                          static_cast<int64_t>(todo.size()));
    s = parallel_for(static_cast<int64_t>(todo.size()), o.jobs, [&](int64_t k) {
      const Clip& c = *todo[k];
      const std::string path = absl::StrCat(o.out, "/", c.rel);
      if (nonempty_file(path)) {
        wav_progress.tick(1);
        return absl::OkStatus();
      }
      auto pcm = synthesise(caption(c.label, c.tmpl), c.voice);
      if (!pcm.ok()) return pcm.status();
      if (!write_atomically(path, wav_bytes(*pcm))) {
        return absl::InternalError(absl::StrCat(path, ": cannot write WAV"));
      }
      wav_progress.tick(0);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;

    const std::string manifest_path = absl::StrCat(o.out, "/", split, ".jsonl");
    if (!write_atomically(manifest_path, manifest)) {
      return absl::InternalError(absl::StrCat(manifest_path, ": cannot write"));
    }
    // Verify: every line's files exist and are non-empty.
    int64_t missing = 0;
    for (int64_t i : index) {
      if (!nonempty_file(
              absl::StrCat(o.out, "/img/", split, "/", absl::Dec(i, absl::kZeroPad5), ".png")))
        ++missing;
    }
    for (const auto& [rel, clip] : clips) {
      if (!nonempty_file(absl::StrCat(o.out, "/", rel))) ++missing;
    }
    if (missing > 0) {
      return absl::DataLossError(
          absl::StrCat(split, ": ", missing, " files missing after writing"));
    }
    std::cout << "  " << manifest_path << ": " << index.size() << " lines, " << clips.size()
              << " distinct spoken captions, " << vs.size() << " voices\n";
  }

  nlohmann::json classes = nlohmann::json::object();
  for (const FmnistClass& c : fmnist_classes()) {
    classes["classes"].push_back(c.name);
    classes["nouns"].push_back(c.noun);
  }
  for (int t = 0; t < n_templates; ++t) classes["templates"].push_back(caption_templates()[t]);
  for (const auto& [split, vs] : voices) {
    for (const Voice& v : vs) {
      classes["voices"][split].push_back(
          {{"voice", v.name}, {"speed", v.speed}, {"pitch", v.pitch}});
    }
  }
  classes["source"] = o.speech ? "Fashion-MNIST (Debian dataset-fashion-mnist), speech by espeak-ng"
                               : "Fashion-MNIST (Debian dataset-fashion-mnist), no speech";
  classes["sample_rate"] = kSpeechRate;
  if (!write_atomically(o.out + "/classes.json", classes.dump(2) + "\n")) {
    return absl::InternalError(absl::StrCat(o.out, "/classes.json: cannot write"));
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::cout << "done in " << secs << " s\n";
  return absl::OkStatus();
}

int64_t parse_int(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used == v.size() && x >= 0) return x;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(
      absl::StrCat(flag, ": expected a non-negative integer, got '", v, "'"));
}

}  // namespace

int run_data_prepare_fmnist(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "--out") {
      o.out = value();
    } else if (a == "--source") {
      o.source = value();
    } else if (a == "--train") {
      o.train = parse_int(a, value());
    } else if (a == "--test") {
      o.test = parse_int(a, value());
    } else if (a == "--jobs") {
      o.jobs = std::max<int>(1, static_cast<int>(parse_int(a, value())));
    } else if (a == "--quick") {
      // A tenth of the images, every template and voice: the full pipeline in seconds.
      o.train = 6000;
      o.test = 1000;
    } else if (a == "--sample") {
      // The embedded sample (data/sample, < 5 MB): balanced classes, fewer clips.
      o.train = 200;
      o.test = 100;
      o.balanced = true;
      o.templates = 3;
      o.train_voices = 2;
      o.test_voices = 1;
    } else if (a == "--no-speech") {
      o.speech = false;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: chorus data prepare-fmnist [--out DIR] [--quick | --sample]\n"
                   "         [--train N] [--test N] [--source DIR] [--jobs N] [--no-speech]\n"
                   "  --no-speech  images and captions only: no spoken captions, no espeak-ng\n";
      return 0;
    } else {
      std::cerr << "chorus data prepare-fmnist: unknown option '" << a << "'\n";
      return 2;
    }
  }
  absl::Status s = prepare(o);
  if (!s.ok()) {
    std::cerr << "chorus data prepare-fmnist: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace chorus::cli
