// load_report_data(): reads a run directory's metrics.jsonl, eval.json and embeddings.jsonl
// into a ReportData (formats in report_html.h).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "core/align/pca.h"
#include "core/recipe/report_html.h"
#include "core/tensor/tensor.h"

namespace chorus::recipe {

namespace {

using Json = nlohmann::ordered_json;  // keeps eval.json's metric order for the table

double number_or_nan(const Json& row, const char* key) {
  auto it = row.find(key);
  return it != row.end() && it->is_number() ? it->get<double>() : NAN;
}

// expert_load: [E] numbers, or [L][E] per layer (averaged over layers).
absl::StatusOr<std::vector<double>> expert_load(const Json& v) {
  if (!v.is_array()) return absl::InvalidArgumentError("\"expert_load\" is not an array");
  std::vector<double> out;
  if (v.empty() || v.front().is_number()) {
    for (const Json& x : v) {
      if (!x.is_number())
        return absl::InvalidArgumentError("\"expert_load\" mixes numbers and non-numbers");
      out.push_back(x.get<double>());
    }
    return out;
  }
  for (const Json& layer : v) {
    auto one = expert_load(layer);
    if (!one.ok() || (!layer.empty() && !layer.front().is_number())) {
      return absl::InvalidArgumentError(
          "\"expert_load\" must be [experts] or [layers][experts] numbers");
    }
    if (out.empty()) out.assign(one->size(), 0.0);
    if (one->size() != out.size())
      return absl::InvalidArgumentError("\"expert_load\" layers differ in expert count");
    for (size_t e = 0; e < out.size(); ++e) out[e] += (*one)[e] / static_cast<double>(v.size());
  }
  return out;
}

void flatten(const std::string& prefix, const Json& j,
             std::vector<std::pair<std::string, double>>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string name = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_number())
      out.emplace_back(name, it->get<double>());
    else if (it->is_object())
      flatten(name, *it, out);
  }
}

absl::Status read_metrics(const std::string& path, ReportData& d) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("report: cannot open ", path));
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const Json row = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string where = absl::StrCat(path, ":", n, ": ");
    if (row.is_discarded()) return absl::InvalidArgumentError(where + "not valid JSON");
    if (!row.is_object()) return absl::InvalidArgumentError(where + "not a JSON object");
    MetricsRow r;
    auto step = row.find("step");
    if (step == row.end() || !step->is_number_integer())
      return absl::InvalidArgumentError(where + "missing integer \"step\"");
    r.step = step->get<int64_t>();
    if (auto s = row.find("stage"); s != row.end() && s->is_string())
      r.stage = s->get<std::string>();
    r.loss = number_or_nan(row, "loss");
    r.lr = number_or_nan(row, "lr");
    r.logit_scale = number_or_nan(row, "logit_scale");
    if (auto e = row.find("expert_load"); e != row.end()) {
      auto load = expert_load(*e);
      if (!load.ok())
        return absl::InvalidArgumentError(where + std::string(load.status().message()));
      r.expert_load = *std::move(load);
    }
    d.rows.push_back(std::move(r));
  }
  return absl::OkStatus();
}

absl::Status read_eval(const std::string& path, ReportData& d) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("report: cannot open ", path));
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError(path + ": not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError(path + ": not a JSON object");
  if (j.contains("stages") && j["stages"].is_object()) j = j["stages"];
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_object()) continue;  // e.g. "checkpoint": "…"
    StageEval e{it.key(), {}};
    flatten("", *it, e.metrics);
    d.evals.push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::Status read_embeddings(const std::string& path, ReportData& d) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("report: cannot open ", path));
  std::vector<double> flat;
  int64_t width = -1;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const Json row = Json::parse(line, nullptr, false);
    const std::string where = absl::StrCat(path, ":", n, ": ");
    if (row.is_discarded()) return absl::InvalidArgumentError(where + "not valid JSON");
    if (!row.is_object()) return absl::InvalidArgumentError(where + "not a JSON object");
    ProjectedPoint p;
    if (auto m = row.find("modality"); m != row.end() && m->is_string())
      p.modality = m->get<std::string>();
    if (auto l = row.find("label"); l != row.end())
      p.label = l->is_string() ? l->get<std::string>() : l->dump();
    if (auto e = row.find("embedding"); e != row.end()) {
      if (!e->is_array() || e->empty())
        return absl::InvalidArgumentError(where +
                                          "\"embedding\" must be a non-empty array of numbers");
      if (width >= 0 && static_cast<int64_t>(e->size()) != width)
        return absl::InvalidArgumentError(
            absl::StrCat(where, "embedding has ", e->size(), " values, earlier rows have ", width));
      width = static_cast<int64_t>(e->size());
      for (const Json& v : *e) {
        if (!v.is_number())
          return absl::InvalidArgumentError(where + "\"embedding\" holds a non-number");
        flat.push_back(v.get<double>());
      }
    } else {
      p.x = number_or_nan(row, "x");
      p.y = number_or_nan(row, "y");
      if (!std::isfinite(p.x) || !std::isfinite(p.y))
        return absl::InvalidArgumentError(where + "needs \"embedding\" or numeric \"x\" and \"y\"");
      if (width >= 0)
        return absl::InvalidArgumentError(where + "mixes \"x\"/\"y\" rows with \"embedding\" rows");
    }
    d.points.push_back(std::move(p));
  }
  if (width < 0) return absl::OkStatus();
  const int64_t count = static_cast<int64_t>(d.points.size());
  if (static_cast<int64_t>(flat.size()) != count * width)
    return absl::InvalidArgumentError(path + ": every row needs an \"embedding\" once one has");
  if (count < 2 || width < 2) return absl::OkStatus();  // nothing to project: leave at 0
  try {
    const align::PcaResult r =
        align::pca(Tensor::from_doubles(flat, {count, width}, DType::kF64), 2);
    const std::vector<double> xy = r.projection.to_vector<double>();
    for (int64_t i = 0; i < count; ++i) d.points[i].x = xy[2 * i], d.points[i].y = xy[2 * i + 1];
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": PCA failed: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReportData> load_report_data(const std::string& run_dir) {
  namespace fs = std::filesystem;
  ReportData d;
  d.title = "Chorus run " + fs::path(run_dir).lexically_normal().string();
  d.info.emplace_back("run directory", run_dir);
  if (auto s = read_metrics((fs::path(run_dir) / "metrics.jsonl").string(), d); !s.ok()) return s;
  for (const auto& [name, reader] :
       {std::pair{"eval.json", &read_eval}, std::pair{"embeddings.jsonl", &read_embeddings}}) {
    const fs::path p = fs::path(run_dir) / name;
    if (!fs::exists(p)) continue;
    if (auto s = reader(p.string(), d); !s.ok()) return s;
  }
  return d;
}

}  // namespace chorus::recipe
