// `chorus embed --checkpoint C --modality M [--out FILE] INPUTS...`: shared-space embeddings of
// files (or, for an inline modality such as text, of the arguments themselves), written as JSONL
// ({"input": ..., "embedding": [...]} per line, to stdout or FILE.jsonl) or as safetensors
// (FILE.safetensors: "embeddings" [N, D] f32, inputs listed in the metadata).
#include <fstream>
#include <iostream>

#include "core/align/normalize.h"
#include "core/autograd/node.h"
#include "core/io/safetensors.h"
#include "core/recipe/components.h"
#include "core/recipe/recipe.h"
#include "core/train/checkpoint.h"
#include "tools/chorus/commands.h"
#include "tools/chorus/run_location.h"

namespace chorus::cli {

namespace {

constexpr const char* kEmbedUsage =
    "usage: chorus embed --checkpoint RUN_OR_CHECKPOINT --modality NAME [--out FILE] "
    "[--raw] INPUTS...\n"
    "  INPUTS   files for path modalities (image, audio); the texts themselves for text\n"
    "  --out    FILE.jsonl or FILE.safetensors (default: JSONL on stdout)\n"
    "  --raw    do not L2-normalise the embeddings\n";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int run_embed(const std::vector<std::string>& args) {
  std::string checkpoint, modality, out_path;
  bool raw = false;
  std::vector<std::string> inputs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kEmbedUsage;
      return 0;
    } else if (a == "--checkpoint" && i + 1 < args.size()) {
      checkpoint = args[++i];
    } else if (a == "--modality" && i + 1 < args.size()) {
      modality = args[++i];
    } else if (a == "--out" && i + 1 < args.size()) {
      out_path = args[++i];
    } else if (a == "--raw") {
      raw = true;
    } else {
      inputs.push_back(a);
    }
  }
  if (checkpoint.empty() || modality.empty() || inputs.empty()) {
    std::cerr << kEmbedUsage;
    return 2;
  }
  if (!out_path.empty() && !ends_with(out_path, ".jsonl") && !ends_with(out_path, ".safetensors")) {
    std::cerr << "chorus embed: --out " << out_path << ": expected .jsonl or .safetensors\n";
    return 2;
  }
  auto located = locate_run(checkpoint);
  if (!located.ok()) {
    std::cerr << "chorus embed: " << located.status().message() << "\n";
    return 1;
  }
  recipe::LoadOptions load;
  load.plugins = recipe::registry_catalog_factory();
  load.check_files = false;  // the data need not exist where embeddings are made
  auto loaded = recipe::load_recipe(located->recipe, load);
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return 1;
  }
  auto parts = recipe::build_components(loaded->config);
  if (!parts.ok()) {
    std::cerr << "chorus embed: " << parts.status().message() << "\n";
    return 1;
  }
  auto it = (*parts)->data->modalities().find(modality);
  if (it == (*parts)->data->modalities().end()) {
    std::cerr << "chorus embed: the run has no modality '" << modality << "'\n";
    return 1;
  }
  auto ckpt = train::load_checkpoint(located->checkpoint);
  if (!ckpt.ok()) {
    std::cerr << "chorus embed: " << ckpt.status().message() << "\n";
    return 1;
  }
  recipe::AlignModel& model = *(*parts)->model;
  if (auto s = model.load_state_dict(ckpt->model); !s.ok()) {
    std::cerr << "chorus embed: " << s.message() << "\n";
    return 1;
  }
  model.eval();
  autograd::NoGradGuard no_grad;
  const auto& io = it->second;
  std::vector<data::Sample> samples;
  int failures = 0;
  std::vector<std::string> used;
  for (const auto& input : inputs) {
    auto s = io.value == plugin::ManifestValue::kInline ? io.decoder->decode_bytes(input, {})
                                                        : io.decoder->decode_file(input, {});
    if (!s.ok()) {
      std::cerr << "chorus embed: " << input << ": " << s.status().message() << "\n";
      ++failures;
      continue;
    }
    samples.push_back(std::move(*s));
    used.push_back(input);
  }
  if (samples.empty()) return 1;
  auto batch = io.decoder->collate(samples);
  if (!batch.ok()) {
    std::cerr << "chorus embed: " << batch.status().message() << "\n";
    return 1;
  }
  auto z = model.embed(modality, *batch);
  if (!z.ok()) {
    std::cerr << "chorus embed: " << z.status().message() << "\n";
    return 1;
  }
  const Tensor e = (raw ? *z : align::l2_normalize(*z)).contiguous();
  if (ends_with(out_path, ".safetensors")) {
    nlohmann::json names = used;
    auto s = save_safetensors(
        out_path, {{"embeddings", e}},
        {{"inputs", names.dump()}, {"modality", modality}, {"checkpoint", located->checkpoint}});
    if (!s.ok()) {
      std::cerr << "chorus embed: " << s.message() << "\n";
      return 1;
    }
  } else {
    std::ofstream file;
    if (!out_path.empty()) file.open(out_path, std::ios::trunc);
    std::ostream& out = out_path.empty() ? std::cout : file;
    const float* p = e.data<float>();
    const int64_t d = e.size(1);
    for (size_t i = 0; i < used.size(); ++i) {
      nlohmann::json row = {{"input", used[i]},
                            {"modality", modality},
                            {"embedding", std::vector<float>(p + i * d, p + (i + 1) * d)}};
      out << row.dump() << "\n";
    }
  }
  if (!out_path.empty()) {
    std::cerr << "wrote " << used.size() << " embeddings [" << e.size(0) << ", " << e.size(1)
              << "] to " << out_path << "\n";
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace chorus::cli
