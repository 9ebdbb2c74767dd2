// Inline-SVG charts for the run report (core/recipe/report_html.h): line charts, a heatmap,
// grouped bars and a scatter plot, each returned as one self-contained <svg> element string with
// a viewBox (it scales with the page) and a <title> for accessibility. No scripts, no external
// fonts or stylesheets. Non-finite values are skipped.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace chorus::recipe::svg {

// HTML/XML text escaping (&, <, >, ", ').
std::string escape(const std::string& text);
// The i-th colour of the categorical palette (Tableau 10, cycling), as "#rrggbb".
std::string palette(size_t i);
// A number printed compactly for axis ticks and labels (3 significant digits).
std::string format_number(double v);

struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in order
};

struct LineChartOptions {
  std::string title, x_label, y_label;
  bool log_y = false;  // log10 axis (non-positive values skipped)
  // Vertical dashed lines with labels (stage boundaries).
  std::vector<std::pair<double, std::string>> markers;
};

// One <path> per series with at least one point, a legend when there are several series.
std::string line_chart(const std::vector<Series>& series, const LineChartOptions& options);

// values[t][e]: load of expert e at time column t; x[t] its step. One <rect> per cell, colour
// from a sequential scale between the min and max value; a colour bar legend.
std::string heatmap(const std::string& title, const std::vector<double>& x,
                    const std::vector<std::vector<double>>& values, const std::string& y_label);

// Grouped bars: values[g][s] for group g (a metric) and series s (a stage); NaN = no bar.
std::string bar_chart(const std::string& title, const std::vector<std::string>& groups,
                      const std::vector<std::string>& series,
                      const std::vector<std::vector<double>>& values);

struct ScatterPoint {
  double x = 0, y = 0;
  size_t group = 0;  // index into group_names, coloured by palette(group)
};
std::string scatter(const std::string& title, const std::vector<ScatterPoint>& points,
                    const std::vector<std::string>& group_names);

// A placeholder <svg> saying why a chart is missing ("no learning-rate values logged").
std::string empty_chart(const std::string& title, const std::string& why);

}  // namespace chorus::recipe::svg
