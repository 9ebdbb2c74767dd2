// `chorus data check MANIFEST...`: every problem a training run would hit in a manifest (bad
// lines, missing or empty files, labels out of range, undecodable inputs), and a summary.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/data/check.h"
#include "core/plugin/registry.h"
#include "nlohmann/json.hpp"
#include "tools/chorus/commands.h"

namespace chorus::cli {
namespace {

// Decode checks use the modality plugins found along `plugin_paths` and the usual discovery
// path: a manifest field named like a plugin ("image", "audio", "text") is decoded by that
// plugin's decoder with its default options. Plugins whose decoder cannot be made are noted.
std::map<std::string, data::DecodeFn> find_decoders(const std::vector<std::string>& plugin_paths,
                                                    data::ManifestSchema* schema,
                                                    std::string* note) {
  std::map<std::string, data::DecodeFn> out;
  plugin::Registry registry;
  registry.Discover(plugin_paths);
  for (const auto& p : registry.plugins()) {
    auto decoder = p->MakeDecoder(nlohmann::json::object());
    if (!decoder.ok()) {
      *note += "plugin '" + p->name() + "': no decoder (" +
               std::string(decoder.status().message()) + "); ";
      continue;
    }
    const bool inline_value = p->info().manifest_value == plugin::ManifestValue::kInline;
    schema->modalities[p->name()] =
        inline_value ? data::ValueKind::kInline : data::ValueKind::kPath;
    std::shared_ptr<const plugin::Decoder> d = *decoder;
    out[p->name()] = [d, inline_value](const std::string& value, const data::DecodeOptions& o) {
      return inline_value ? d->decode_bytes(value, o) : d->decode_file(value, o);
    };
  }
  if (out.empty()) *note += "no modality plugin found: decode checks skipped";
  return out;
}

// Number of classes from classes.json beside the manifest (written by data/prepare), if any.
std::optional<int64_t> classes_beside(const std::string& manifest) {
  const auto path = std::filesystem::path(manifest).parent_path() / "classes.json";
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (j.contains("classes") && j["classes"].is_array()) {
      return static_cast<int64_t>(j["classes"].size());
    }
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

void usage(std::ostream& out) {
  out << "usage: chorus data check MANIFEST... [--num-classes N] [--plugin-path DIR]...\n"
         "                        [--threads N] [--json] [--max-problems N] [--no-decode]\n"
         "  Reports bad lines, missing/empty files, labels outside [0, N) (N from --num-classes\n"
         "  or classes.json beside the manifest) and, where decoders are available, inputs that\n"
         "  do not decode. Exit status 1 when any problem is found.\n";
}

}  // namespace

int run_data_check(const std::vector<std::string>& args) {
  std::vector<std::string> manifests, plugin_paths;
  std::optional<int64_t> num_classes;
  bool json = false;
  bool decode = true;
  int threads = 2;
  int64_t max_problems = 50;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "--num-classes") {
      num_classes = std::stoll(value());
    } else if (a == "--plugin-path") {
      plugin_paths.push_back(value());
    } else if (a == "--threads") {
      threads = std::stoi(value());
    } else if (a == "--max-problems") {
      max_problems = std::stoll(value());
    } else if (a == "--json") {
      json = true;
    } else if (a == "--no-decode") {
      decode = false;
    } else if (a == "--help" || a == "-h") {
      usage(std::cout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "chorus data check: unknown option '" << a << "'\n";
      usage(std::cerr);
      return 2;
    } else {
      manifests.push_back(a);
    }
  }
  if (manifests.empty()) {
    usage(std::cerr);
    return 2;
  }
  std::string note;
  data::CheckOptions options;
  if (decode) options.decoders = find_decoders(plugin_paths, &options.schema, &note);
  options.threads = threads;

  bool all_ok = true;
  nlohmann::json reports = nlohmann::json::array();
  for (const std::string& m : manifests) {
    options.num_classes = num_classes ? num_classes : classes_beside(m);
    auto report = data::check_manifest(m, options);
    if (!report.ok()) {
      std::cerr << "chorus data check: " << report.status().message() << "\n";
      return 1;
    }
    all_ok = all_ok && report->ok();
    if (json) {
      reports.push_back(report->to_json());
      continue;
    }
    int64_t shown = 0;
    for (const data::BadSample& b : report->problems) {
      if (shown++ == max_problems) {
        std::cout << "... " << report->problems.size() - max_problems
                  << " more (--max-problems, or --json for all)\n";
        break;
      }
      std::cout << bad_reason_name(b.reason) << ": " << b.where << ": " << b.message << "\n";
    }
    std::cout << report->summary();
    if (options.num_classes)
      std::cout << "  labels checked against " << *options.num_classes << " classes\n";
  }
  if (json) {
    std::cout << nlohmann::json{{"reports", reports}, {"note", note}}.dump(2) << "\n";
  } else if (!note.empty()) {
    std::cout << "note: " << note << "\n";
  }
  return all_ok ? 0 : 1;
}

}  // namespace chorus::cli
