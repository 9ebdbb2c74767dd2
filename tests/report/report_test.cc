// report.html: every section present and self-contained, a run directory loads into the same
// data, bad run files give errors naming file and line, and headless Chromium lays out and
// draws every plot.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/recipe/report_html.h"

namespace chorus::recipe {
namespace {

namespace fs = std::filesystem;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

fs::path temp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("chorus_report_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// Three stages of a run with an 8-expert MoE, eval after each stage, 300 projected points.
ReportData synthetic() {
  ReportData d;
  d.title = "synthetic <run> & co";
  d.info = {{"recipe", "recipes/quickstart.yaml"}};
  const char* stages[] = {"instance", "cluster", "semantic"};
  for (int64_t step = 0; step < 90; ++step) {
    MetricsRow r;
    r.step = step;
    r.stage = stages[step / 30];
    r.loss = 4.0 * std::exp(-0.03 * step) + 0.1 * (step / 30);
    r.lr = 1e-3 * std::min(1.0, (step % 30 + 1) / 5.0);
    r.logit_scale = std::min(100.0, 14.3 + step);
    for (int e = 0; e < 8; ++e) r.expert_load.push_back((1 + 0.5 * std::sin(0.1 * step + e)) / 8);
    d.rows.push_back(r);
  }
  for (int s = 0; s < 3; ++s) {
    d.evals.push_back({stages[s],
                       {{"zero_shot.top1", 0.5 + 0.1 * s},
                        {"zero_shot.top5", 0.9 + 0.02 * s},
                        {"retrieval.image_text.r1", 0.3 + 0.1 * s},
                        {"cluster.nmi", 0.4 + 0.1 * s}}});
  }
  const char* modalities[] = {"image", "text", "audio"};
  for (int i = 0; i < 300; ++i) {
    const int c = i % 10;
    d.points.push_back({std::cos(0.628 * c) * 3 + 0.3 * std::sin(i),
                        std::sin(0.628 * c) * 3 + 0.3 * std::cos(i * 1.7),
                        "class " + std::to_string(c), modalities[(i / 10) % 3]});
  }
  return d;
}

TEST(ReportHtml, HasEverySectionAndNoExternalResources) {
  const std::string html = render_report_html(synthetic());
  EXPECT_EQ(count(html, "<svg"), 7u);       // loss, lr, logit scale, heatmap, bars, 2 scatters
  EXPECT_EQ(count(html, "<circle"), 600u);  // 300 points, twice
  EXPECT_EQ(count(html, "class=\"series\""), 9u);  // 3 stages x 3 curves
  EXPECT_GE(count(html, "<rect"), 8u * 90u);       // heatmap cells
  EXPECT_EQ(count(html, "<script"), 0u);
  EXPECT_EQ(count(html, "src="), 0u);
  EXPECT_EQ(count(html, "href="), 0u);
  EXPECT_EQ(count(html, "http"), 7u);  // only the SVG namespace declarations
  EXPECT_NE(html.find("synthetic &lt;run&gt; &amp; co"), std::string::npos);
  EXPECT_NE(html.find("<td>zero_shot.top1</td><td>0.5</td><td>0.6</td><td>0.7</td>"),
            std::string::npos);
}

TEST(ReportHtml, EmptyRunStillRendersPlaceholders) {
  const std::string html = render_report_html(ReportData{});
  EXPECT_EQ(count(html, "<svg"), 7u);
  EXPECT_EQ(count(html, "class=\"chart empty\""), 7u);
}

TEST(ReportHtml, LoadsARunDirectory) {
  const fs::path dir = temp_dir("load");
  {
    std::ofstream m(dir / "metrics.jsonl");
    m << R"({"step":1,"stage":"instance","loss":2.5,"lr":0.001,"logit_scale":14.3,"expert_load":[[0.5,0.5],[1.0,0.0]],"tokens":7})"
      << "\n\n"
      << R"({"step":2,"stage":"cluster","loss":1.5})"
      << "\n";
    std::ofstream e(dir / "eval.json");
    e << R"({"stages":{"instance":{"zero_shot":{"top1":0.5,"top5":0.9},"note":"x"},"cluster":{"nmi":0.4}}})";
    std::ofstream p(dir / "embeddings.jsonl");
    for (int i = 0; i < 20; ++i) {
      // Spread along (1, 1, 0), a little along (0, 0, 1): PC 1 carries almost all variance.
      p << "{\"modality\":\"" << (i % 2 ? "image" : "text") << "\",\"label\":" << i % 4
        << ",\"embedding\":[" << i << "," << i << "," << 0.01 * (i % 3) << "]}\n";
    }
  }
  const absl::StatusOr<ReportData> d = load_report_data(dir.string());
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->rows.size(), 2u);
  EXPECT_EQ(d->rows[0].expert_load, (std::vector<double>{0.75, 0.25}));  // layers averaged
  EXPECT_TRUE(std::isnan(d->rows[1].lr));
  ASSERT_EQ(d->evals.size(), 2u);
  EXPECT_EQ(d->evals[0].stage, "instance");
  ASSERT_EQ(d->evals[0].metrics.size(), 2u);
  EXPECT_EQ(d->evals[0].metrics[1].first, "zero_shot.top5");
  ASSERT_EQ(d->points.size(), 20u);
  EXPECT_EQ(d->points[3].label, "3");
  EXPECT_EQ(d->points[3].modality, "image");
  // PC 1 = (i − 9.5)·√2 up to sign; PC 2 is small.
  EXPECT_NEAR(std::fabs(d->points[0].x), 9.5 * std::sqrt(2.0), 1e-3);
  EXPECT_LT(std::fabs(d->points[0].y), 0.05);
  fs::remove_all(dir);
}

TEST(ReportHtml, BadRunFilesNameFileAndLine) {
  const fs::path dir = temp_dir("bad");
  EXPECT_EQ(load_report_data(dir.string()).status().code(), absl::StatusCode::kNotFound);
  {
    std::ofstream m(dir / "metrics.jsonl");
    m << R"({"step":1,"loss":2})"
      << "\n"
      << R"({"loss":2})"
      << "\n";
  }
  absl::Status s = load_report_data(dir.string()).status();
  EXPECT_NE(s.message().find("metrics.jsonl:2: missing integer \"step\""), std::string::npos) << s;
  {
    std::ofstream m(dir / "metrics.jsonl");
    m << R"({"step":1,"loss":2)"
      << "\n";
  }
  s = load_report_data(dir.string()).status();
  EXPECT_NE(s.message().find("metrics.jsonl:1: not valid JSON"), std::string::npos) << s;
  {
    std::ofstream m(dir / "metrics.jsonl");
    m << R"({"step":1,"expert_load":"many"})"
      << "\n";
  }
  s = load_report_data(dir.string()).status();
  EXPECT_NE(s.message().find("expert_load"), std::string::npos) << s;
  {
    std::ofstream m(dir / "metrics.jsonl");
    m << R"({"step":1})"
      << "\n";
    std::ofstream p(dir / "embeddings.jsonl");
    p << R"({"embedding":[1,2]})"
      << "\n"
      << R"({"embedding":[1,2,3]})"
      << "\n";
  }
  s = load_report_data(dir.string()).status();
  EXPECT_NE(s.message().find("embeddings.jsonl:2: embedding has 3 values"), std::string::npos) << s;
  fs::remove_all(dir);
}

// The chromium binary: $CHORUS_CHROMIUM, else the first of chromium / chromium-browser on PATH.
std::string find_chromium() {
  if (const char* env = std::getenv("CHORUS_CHROMIUM"); env && *env) return env;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const fs::path p = fs::path(dir) / name;
      if (fs::exists(p)) return p.string();
    }
  }
  return "";
}

// Appended to a copy of the report (the report itself has no scripts): after layout, for each
// chart, the number of drawn marks with a non-empty bounding box and the chart's laid-out size.
constexpr const char* kProbe = R"js(<script>
const out = [];
for (const s of document.querySelectorAll('svg.chart')) {
  let drawn = 0;
  for (const e of s.querySelectorAll('path.series, circle, rect[fill]')) {
    const b = e.getBBox();
    if (b.width > 0 && b.height > 0) ++drawn;
  }
  const r = s.getBoundingClientRect();
  out.push(s.classList[1] + ':' + drawn + ':' + Math.round(r.width) + ':' + Math.round(r.height));
}
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = out.join(' ');
document.body.appendChild(pre);
</script>)js";

TEST(ReportRender, HeadlessChromiumDrawsEveryPlot) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    if (std::getenv("CI")) FAIL() << "chromium not found under CI (tools/install-deps installs it)";
    GTEST_SKIP() << "chromium not installed (apt-get install chromium, or tools/install-deps); "
                    "set CHORUS_CHROMIUM to its path";
  }
  const fs::path dir = temp_dir("render");
  ASSERT_TRUE(write_report_html(synthetic(), (dir / "report.html").string()).ok());
  std::ifstream in(dir / "report.html");
  std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t body_end = html.rfind("</body>");
  ASSERT_NE(body_end, std::string::npos);
  html.insert(body_end, kProbe);
  std::ofstream(dir / "probe.html") << html;

  const std::string cmd = "timeout 50 '" + chromium +
                          "' --headless --disable-gpu --no-sandbox --no-first-run "
                          "--window-size=1280,4000 --user-data-dir='" +
                          (dir / "profile").string() + "' --dump-dom 'file://" +
                          (dir / "probe.html").string() + "' 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string dom;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) dom.append(buf, n);
  const int rc = ::pclose(pipe);
  ASSERT_EQ(rc, 0) << "chromium failed: " << cmd;

  EXPECT_EQ(count(dom, "<svg"), 7u) << "the parsed DOM lost charts";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("<pre id=\"probe\">([^<]*)</pre>")))
      << "the probe script did not run; DOM head: " << dom.substr(0, 400);
  std::map<std::string, std::vector<int>> drawn;  // chart kind -> drawn marks per chart
  std::stringstream entries(m[1].str());
  for (std::string e; entries >> e;) {
    std::smatch f;
    ASSERT_TRUE(std::regex_match(e, f, std::regex("(\\w+):(\\d+):(\\d+):(\\d+)"))) << e;
    EXPECT_GT(std::stoi(f[3]), 300) << e << ": chart laid out too narrow";
    EXPECT_GT(std::stoi(f[4]), 150) << e << ": chart laid out too short";
    drawn[f[1]].push_back(std::stoi(f[2]));
  }
  EXPECT_EQ(drawn["line"], (std::vector<int>{6, 6, 6}));  // a curve and a legend key per stage
  ASSERT_EQ(drawn["heatmap"].size(), 1u);
  EXPECT_GE(drawn["heatmap"][0], 8 * 90);  // every expert x step cell (plus legend)
  ASSERT_EQ(drawn["bars"].size(), 1u);
  EXPECT_GE(drawn["bars"][0], 12);                                     // 4 metrics x 3 stages
  EXPECT_EQ(drawn["scatter"], (std::vector<int>{300 + 10, 300 + 3}));  // points + legend keys
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chorus::recipe
