// `chorus data check MANIFEST...`: every problem a training run would hit in a manifest (bad
// lines, missing or empty files, labels out of range, undecodable inputs), and a summary.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/data/check.h"
#include "nlohmann/json.hpp"
#include "tools/chorus/commands.h"

namespace chorus::cli {
namespace {

// Decode checks need the modality plugins' decoders. Hook for the plugin registry
// (core/plugin): return modality -> DecodeFn for every plugin found on `plugin_paths` (and the
// usual discovery path). Until the registry is part of this build, no decoder is available and
// the checks stop at files (existence, size) and labels; the report lists the modalities that
// were not decoded.
std::map<std::string, data::DecodeFn> find_decoders(const std::vector<std::string>& plugin_paths,
                                                    std::string* note) {
  *note = "decode checks skipped: the plugin registry is not part of this build";
  (void)plugin_paths;
  return {};
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
         "                        [--threads N] [--json] [--max-problems N]\n"
         "  Reports bad lines, missing/empty files, labels outside [0, N) (N from --num-classes\n"
         "  or classes.json beside the manifest) and, where decoders are available, inputs that\n"
         "  do not decode. Exit status 1 when any problem is found.\n";
}

}  // namespace

int run_data_check(const std::vector<std::string>& args) {
  std::vector<std::string> manifests, plugin_paths;
  std::optional<int64_t> num_classes;
  bool json = false;
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
  options.decoders = find_decoders(plugin_paths, &note);
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
