// `chorus tokenizer`: trains the text modality's byte-level BPE tokenizer and inspects it.
//
//   chorus tokenizer train (--input FILE ... | --manifest M ...) --vocab-size N --out tok.json
//                          [--min-frequency 2]
//   chorus tokenizer encode --tokenizer tok.json TEXT...      (ids, one line per TEXT)
//   chorus tokenizer decode --tokenizer tok.json ID...
//
// Training input: plain text files (every line is text), or JSONL manifests whose lines'
// "text" values are used (lines without "text" are skipped, as image-only samples are).
#include "modalities/text/tokenizer.h"

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tools/chorus/commands.h"

namespace chorus::cli {
namespace {

constexpr const char* kUsage =
    "usage: chorus tokenizer train (--input FILE | --manifest JSONL)... --vocab-size N\n"
    "                              --out tok.json [--min-frequency N]\n"
    "       chorus tokenizer encode --tokenizer tok.json TEXT...\n"
    "       chorus tokenizer decode --tokenizer tok.json ID...\n";

absl::Status add_text_file(const std::string& path, text::ChunkCounts& counts, int64_t& items) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string line;
  while (std::getline(f, line)) {
    text::count_chunks(line, counts);
    ++items;
  }
  return absl::OkStatus();
}

absl::Status add_manifest(const std::string& path, text::ChunkCounts& counts, int64_t& items) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string line;
  for (int64_t lineno = 1; std::getline(f, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", lineno, ": not a JSON object"));
    }
    if (!j.contains("text")) continue;
    if (!j["text"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", lineno, ": \"text\" is not a string"));
    }
    text::count_chunks(j["text"].get<std::string>(), counts);
    ++items;
  }
  return absl::OkStatus();
}

int train(const std::vector<std::string>& args) {
  std::vector<std::string> inputs, manifests;
  std::string out;
  text::TrainOptions options;
  options.vocab_size = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) {
      std::cerr << "chorus tokenizer train: " << a << " needs a value\n" << kUsage;
      return 2;
    }
    const std::string& v = args[++i];
    bool ok = true;
    if (a == "--input") {
      inputs.push_back(v);
    } else if (a == "--manifest") {
      manifests.push_back(v);
    } else if (a == "--out") {
      out = v;
    } else if (a == "--vocab-size") {
      ok = absl::SimpleAtoi(v, &options.vocab_size);
    } else if (a == "--min-frequency") {
      ok = absl::SimpleAtoi(v, &options.min_frequency);
    } else {
      std::cerr << "chorus tokenizer train: unknown option " << a << "\n" << kUsage;
      return 2;
    }
    if (!ok) {
      std::cerr << "chorus tokenizer train: bad value for " << a << ": " << v << "\n";
      return 2;
    }
  }
  if ((inputs.empty() && manifests.empty()) || out.empty() || options.vocab_size <= 0) {
    std::cerr << "chorus tokenizer train: --input or --manifest, --vocab-size and --out are "
                 "required\n"
              << kUsage;
    return 2;
  }
  text::ChunkCounts counts;
  int64_t items = 0;
  for (const std::string& p : inputs) {
    if (auto s = add_text_file(p, counts, items); !s.ok()) {
      std::cerr << "chorus tokenizer train: " << s.message() << "\n";
      return 1;
    }
  }
  for (const std::string& p : manifests) {
    if (auto s = add_manifest(p, counts, items); !s.ok()) {
      std::cerr << "chorus tokenizer train: " << s.message() << "\n";
      return 1;
    }
  }
  auto tok = text::train_bpe(counts, options);
  if (!tok.ok()) {
    std::cerr << "chorus tokenizer train: " << tok.status().message() << "\n";
    return 1;
  }
  if (auto s = tok->save(out); !s.ok()) {
    std::cerr << "chorus tokenizer train: " << s.message() << "\n";
    return 1;
  }
  std::cout << "trained on " << items << " texts (" << counts.size()
            << " distinct chunks): " << tok->merges().size() << " merges, vocabulary "
            << tok->vocab_size() << " -> " << out << "\n";
  return 0;
}

int encode_or_decode(const std::vector<std::string>& args, bool encode) {
  std::string path;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--tokenizer" && i + 1 < args.size()) {
      path = args[++i];
    } else {
      rest.push_back(args[i]);
    }
  }
  auto tok = path.empty() ? absl::StatusOr<text::Tokenizer>(text::Tokenizer())
                          : text::Tokenizer::load(path);
  if (!tok.ok()) {
    std::cerr << "chorus tokenizer: " << tok.status().message() << "\n";
    return 1;
  }
  if (encode) {
    for (const std::string& t : rest) {
      std::string line;
      for (int64_t id : tok->encode(t, text::EncodeOptions{}))
        absl::StrAppend(&line, line.empty() ? "" : " ", id);
      std::cout << line << "\n";
    }
    return 0;
  }
  std::vector<int64_t> ids;
  for (const std::string& s : rest) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(s, &id)) {
      std::cerr << "chorus tokenizer decode: not a token id: " << s << "\n";
      return 2;
    }
    ids.push_back(id);
  }
  auto text = tok->decode(ids);
  if (!text.ok()) {
    std::cerr << "chorus tokenizer decode: " << text.status().message() << "\n";
    return 1;
  }
  std::cout << *text << "\n";
  return 0;
}

}  // namespace

int run_tokenizer(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "train") return train(rest);
  if (args[0] == "encode") return encode_or_decode(rest, true);
  if (args[0] == "decode") return encode_or_decode(rest, false);
  std::cerr << "chorus tokenizer: unknown subcommand '" << args[0] << "'\n" << kUsage;
  return 2;
}

}  // namespace chorus::cli
