// `chorus report RUN_DIR [--out FILE]`: (re)writes a run's report.html from its metrics.jsonl,
// eval.json and embeddings.jsonl (core/recipe/report_html.h).
#include <filesystem>
#include <iostream>

#include "core/recipe/report_html.h"
#include "tools/chorus/commands.h"

namespace chorus::cli {

int run_report(const std::vector<std::string>& args) {
  std::string run_dir, out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--out" && i + 1 < args.size()) {
      out = args[++i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::cout << "usage: chorus report RUN_DIR [--out FILE]   (default RUN_DIR/report.html)\n";
      return 0;
    } else if (run_dir.empty() && args[i].rfind("--", 0) != 0) {
      run_dir = args[i];
    } else {
      std::cerr << "chorus report: unexpected argument '" << args[i] << "'\n";
      return 2;
    }
  }
  if (run_dir.empty()) {
    std::cerr
        << "chorus report: give a run directory (usage: chorus report RUN_DIR [--out FILE])\n";
    return 2;
  }
  if (out.empty()) out = (std::filesystem::path(run_dir) / "report.html").string();
  const auto data = recipe::load_report_data(run_dir);
  if (!data.ok()) {
    std::cerr << "chorus report: " << data.status().message() << "\n";
    return 1;
  }
  if (const auto s = recipe::write_report_html(*data, out); !s.ok()) {
    std::cerr << "chorus report: " << s.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << out << "\n";
  return 0;
}

}  // namespace chorus::cli
