#include "core/recipe/report_html.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/recipe/report_svg.h"

namespace chorus::recipe {

namespace {

// Expert-load heatmap columns: at most this many, each the mean over a run of logged rows, so
// a long run stays a small file.
constexpr size_t kMaxHeatmapColumns = 160;

constexpr const char* kStyle = R"css(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1320px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.info{color:#555;margin:0 0 8px}.info b{color:#222;font-weight:600}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
svg.chart{width:100%;height:auto;background:#fff;border:1px solid #e4e4e4;border-radius:4px}
svg text{font-size:11px;fill:#333}svg .ct{font-size:13px;font-weight:600}svg .note{fill:#777}
svg .small{font-size:10px}svg .frame{fill:none;stroke:#999}svg .grid{stroke:#eee}svg .tick{stroke:#999}
svg .marker{stroke:#aaa;stroke-dasharray:4 3}svg .series{fill:none;stroke-width:1.6;stroke-linejoin:round;stroke-linecap:round}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 10px;text-align:right}
th{background:#f6f6f6}td:first-child,th:first-child{text-align:left}
)css";

template <class Get>
std::vector<svg::Series> per_stage(const ReportData& d, Get get) {
  std::vector<svg::Series> out;
  std::map<std::string, size_t> index;
  for (const MetricsRow& r : d.rows) {
    const double v = get(r);
    if (!std::isfinite(v)) continue;
    auto [it, added] = index.emplace(r.stage, out.size());
    if (added) out.push_back({r.stage.empty() ? "train" : r.stage, svg::palette(out.size()), {}});
    out[it->second].points.emplace_back(static_cast<double>(r.step), v);
  }
  return out;
}

// First step of every stage after the first: where the dashed boundary lines go.
std::vector<std::pair<double, std::string>> stage_markers(const ReportData& d) {
  std::vector<std::pair<double, std::string>> out;
  std::string current;
  bool first = true;
  for (const MetricsRow& r : d.rows) {
    if (!first && r.stage != current) out.emplace_back(static_cast<double>(r.step), r.stage);
    first = false;
    current = r.stage;
  }
  return out;
}

std::string expert_heatmap(const ReportData& d) {
  std::vector<const MetricsRow*> rows;
  for (const MetricsRow& r : d.rows)
    if (!r.expert_load.empty()) rows.push_back(&r);
  const size_t per =
      std::max<size_t>(1, (rows.size() + kMaxHeatmapColumns - 1) / kMaxHeatmapColumns);
  std::vector<double> x;
  std::vector<std::vector<double>> values;
  for (size_t s = 0; s < rows.size(); s += per) {
    const size_t e = std::min(rows.size(), s + per);
    std::vector<double> sum, count;
    for (size_t i = s; i < e; ++i) {
      const auto& load = rows[i]->expert_load;
      if (load.size() > sum.size()) sum.resize(load.size(), 0.0), count.resize(load.size(), 0.0);
      for (size_t k = 0; k < load.size(); ++k)
        if (std::isfinite(load[k])) sum[k] += load[k], count[k] += 1;
    }
    for (size_t k = 0; k < sum.size(); ++k) sum[k] = count[k] > 0 ? sum[k] / count[k] : NAN;
    x.push_back(static_cast<double>(rows[s]->step));
    values.push_back(std::move(sum));
  }
  return svg::heatmap("Per-expert load (fraction of routed tokens)", x, values, "expert");
}

void eval_section(std::ostringstream& h, const ReportData& d) {
  std::vector<std::string> metrics;  // union in first-seen order
  std::map<std::string, size_t> index;
  for (const StageEval& e : d.evals)
    for (const auto& [name, _] : e.metrics)
      if (index.emplace(name, metrics.size()).second) metrics.push_back(name);
  std::vector<std::string> stages;
  std::vector<std::vector<double>> values(metrics.size(), std::vector<double>(d.evals.size(), NAN));
  for (size_t s = 0; s < d.evals.size(); ++s) {
    stages.push_back(d.evals[s].stage);
    for (const auto& [name, v] : d.evals[s].metrics) values[index[name]][s] = v;
  }
  h << "<h2>Evaluation by stage</h2><div class=\"grid2\"><div>";
  if (metrics.empty()) {
    h << "<p class=\"info\">No evaluation results.</p>";
  } else {
    h << "<table><tr><th>metric</th>";
    for (const std::string& s : stages) h << "<th>" << svg::escape(s) << "</th>";
    h << "</tr>";
    for (size_t m = 0; m < metrics.size(); ++m) {
      h << "<tr><td>" << svg::escape(metrics[m]) << "</td>";
      for (double v : values[m]) h << "<td>" << svg::format_number(v) << "</td>";
      h << "</tr>";
    }
    h << "</table>";
  }
  h << "</div>" << svg::bar_chart("Evaluation metrics per stage", metrics, stages, values)
    << "</div>";
}

void pca_section(std::ostringstream& h, const ReportData& d) {
  std::vector<svg::ScatterPoint> by_class, by_modality;
  std::vector<std::string> classes, modalities;
  std::map<std::string, size_t> ci, mi;
  for (const ProjectedPoint& p : d.points) {
    auto [c, c_new] = ci.emplace(p.label, classes.size());
    if (c_new) classes.push_back(p.label);
    auto [m, m_new] = mi.emplace(p.modality, modalities.size());
    if (m_new) modalities.push_back(p.modality);
    by_class.push_back({p.x, p.y, c->second});
    by_modality.push_back({p.x, p.y, m->second});
  }
  h << "<h2>Shared embedding space (PCA, " << d.points.size()
    << " points)</h2><div class=\"grid2\">" << svg::scatter("Coloured by class", by_class, classes)
    << svg::scatter("Coloured by modality", by_modality, modalities) << "</div>";
}

}  // namespace

std::string render_report_html(const ReportData& d) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
    << svg::escape(d.title) << "</title><style>" << kStyle << "</style></head><body><h1>"
    << svg::escape(d.title) << "</h1>";
  for (const auto& [k, v] : d.info)
    h << "<div class=\"info\"><b>" << svg::escape(k) << ":</b> " << svg::escape(v) << "</div>";
  const auto markers = stage_markers(d);
  h << "<h2>Training</h2><div class=\"grid2\">";
  svg::LineChartOptions loss{"Loss per stage", "step", "loss", false, markers};
  h << svg::line_chart(per_stage(d, [](const MetricsRow& r) { return r.loss; }), loss);
  svg::LineChartOptions lr{"Learning rate", "step", "lr", false, markers};
  h << svg::line_chart(per_stage(d, [](const MetricsRow& r) { return r.lr; }), lr);
  svg::LineChartOptions scale{"Logit scale (1/temperature)", "step", "scale", false, markers};
  h << svg::line_chart(per_stage(d, [](const MetricsRow& r) { return r.logit_scale; }), scale);
  h << expert_heatmap(d) << "</div>";
  eval_section(h, d);
  pca_section(h, d);
  h << "</body></html>\n";
  return h.str();
}

absl::Status write_report_html(const ReportData& data, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::UnavailableError(absl::StrCat("report: cannot write ", tmp));
    out << render_report_html(data);
    if (!out.flush()) return absl::DataLossError(absl::StrCat("report: writing ", tmp, " failed"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("report: cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace chorus::recipe
