// The run report: one self-contained report.html (inline SVG and CSS, no scripts, no external
// resources) with the training curves, the MoE expert load, evaluation results and a 2-D PCA
// view of the shared embedding space.
//
// The stage runner fills a ReportData and calls write_report_html(); `chorus` can also rebuild
// the report of a finished run from its directory with load_report_data().
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chorus::recipe {

// One logged training step (a metrics.jsonl row). NaN = not logged at this step.
struct MetricsRow {
  int64_t step = 0;
  std::string stage;
  double loss = std::numeric_limits<double>::quiet_NaN();
  double lr = std::numeric_limits<double>::quiet_NaN();
  double logit_scale = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> expert_load;  // fraction of routed tokens per expert (all layers averaged)
};

// Evaluation results after one stage, in display order ("zero_shot.top1" -> 0.83, ...).
struct StageEval {
  std::string stage;
  std::vector<std::pair<std::string, double>> metrics;
};

// One embedding projected to 2-D, with its class and modality for colouring.
struct ProjectedPoint {
  double x = 0, y = 0;
  std::string label;     // class name (or id as text)
  std::string modality;  // "image", "text", "audio", ...
};

struct ReportData {
  std::string title = "Chorus run";
  std::vector<std::pair<std::string, std::string>> info;  // header facts: run dir, recipe, ...
  std::vector<MetricsRow> rows;                           // in logging order
  std::vector<StageEval> evals;                           // in stage order
  std::vector<ProjectedPoint> points;                     // PCA of a sample of embeddings
};

// The complete HTML document. Sections: training loss per stage, learning rate, logit scale,
// expert load heatmap, evaluation table and bars, PCA by class, PCA by modality (7 <svg>).
std::string render_report_html(const ReportData& data);

// Writes render_report_html(data) to `path` (through a temporary file renamed into place).
absl::Status write_report_html(const ReportData& data, const std::string& path);

// Builds a ReportData from a run directory:
//   metrics.jsonl     one JSON object per line: "step" (int), "stage" (string), and any of
//                     "loss", "lr", "logit_scale" (numbers) and "expert_load" (an array of
//                     numbers, or an array of per-layer arrays, averaged over layers). Other
//                     keys are ignored. Required.
//   eval.json         optional: {"<stage>": {"<metric>": number or nested object, ...}, ...}
//                     (nested objects are flattened to "a.b"; non-numbers are skipped); a
//                     top-level "stages" object is read instead when present.
//   embeddings.jsonl  optional: per line "modality", "label" (string or number) and either
//                     "embedding" (array; all rows are projected with PCA to 2-D) or "x", "y".
// Errors name the file, the line and the problem.
absl::StatusOr<ReportData> load_report_data(const std::string& run_dir);

}  // namespace chorus::recipe
