#include "core/recipe/report_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace chorus::recipe::svg {

namespace {

constexpr double kW = 640, kH = 320;                                 // viewBox size
constexpr double kLeft = 64, kRight = 150, kTop = 36, kBottom = 48;  // plot margins (legend right)

std::string fmt(double v) {  // coordinates: one decimal is plenty at this size
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
  void pad() {  // a flat range still needs a height
    if (empty()) lo = 0, hi = 1;
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) lo -= 0.5, hi += 0.5;
  }
};

// ~5 "nice" tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

std::string open_svg(const std::string& title, const std::string& cls) {
  std::ostringstream s;
  s << "<svg class=\"chart " << cls << "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
    << kW << ' ' << kH << "\" role=\"img\"><title>" << escape(title) << "</title>"
    << "<text x=\"" << kW / 2 << "\" y=\"20\" text-anchor=\"middle\" class=\"ct\">" << escape(title)
    << "</text>";
  return s.str();
}

// Axes box, ticks and labels for the plot area; sx/sy map data to pixels.
template <class SX, class SY>
void axes(std::ostringstream& s, const Range& xr, const Range& yr, SX sx, SY sy,
          const std::string& x_label, const std::string& y_label, bool log_y) {
  const double x0 = kLeft, x1 = kW - kRight, y0 = kH - kBottom, y1 = kTop;
  s << "<rect x=\"" << x0 << "\" y=\"" << y1 << "\" width=\"" << x1 - x0 << "\" height=\""
    << y0 - y1 << "\" class=\"frame\"/>";
  for (double t : ticks(xr.lo, xr.hi)) {
    s << "<line x1=\"" << fmt(sx(t)) << "\" x2=\"" << fmt(sx(t)) << "\" y1=\"" << y0 << "\" y2=\""
      << y0 + 4 << "\" class=\"tick\"/><text x=\"" << fmt(sx(t)) << "\" y=\"" << y0 + 16
      << "\" text-anchor=\"middle\">" << format_number(t) << "</text>";
  }
  for (double t : ticks(yr.lo, yr.hi)) {
    const std::string label = format_number(log_y ? std::pow(10.0, t) : t);
    s << "<line x1=\"" << x0 - 4 << "\" x2=\"" << x1 << "\" y1=\"" << fmt(sy(t)) << "\" y2=\""
      << fmt(sy(t)) << "\" class=\"grid\"/><text x=\"" << x0 - 6 << "\" y=\"" << fmt(sy(t) + 4)
      << "\" text-anchor=\"end\">" << label << "</text>";
  }
  s << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << kH - 10 << "\" text-anchor=\"middle\">"
    << escape(x_label) << "</text><text transform=\"translate(14 " << (y0 + y1) / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << escape(y_label) << "</text>";
}

void legend(std::ostringstream& s, const std::vector<std::pair<std::string, std::string>>& items) {
  double y = kTop + 8;
  for (const auto& [name, color] : items) {
    if (y > kH - 12) {  // more entries than fit: say so instead of overflowing
      s << "<text x=\"" << kW - kRight + 12 << "\" y=\"" << y << "\">…</text>";
      break;
    }
    s << "<rect x=\"" << kW - kRight + 12 << "\" y=\"" << y - 9 << "\" width=\"10\" height=\"10\""
      << " fill=\"" << color << "\"/><text x=\"" << kW - kRight + 27 << "\" y=\"" << y << "\">"
      << escape(name.size() > 18 ? name.substr(0, 17) + "…" : name) << "</text>";
    y += 16;
  }
}

}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string palette(size_t i) {
  static const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return kColors[i % 10];
}

std::string format_number(double v) {
  if (!std::isfinite(v)) return "–";
  char buf[32];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e5)) {
    std::snprintf(buf, sizeof buf, "%.2e", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

std::string empty_chart(const std::string& title, const std::string& why) {
  std::ostringstream s;
  s << open_svg(title, "empty") << "<text x=\"" << kW / 2 << "\" y=\"" << kH / 2
    << "\" text-anchor=\"middle\" class=\"note\">" << escape(why) << "</text></svg>";
  return s.str();
}

std::string line_chart(const std::vector<Series>& series, const LineChartOptions& o) {
  Range xr, yr;
  auto ty = [&](double y) { return o.log_y ? (y > 0 ? std::log10(y) : NAN) : y; };
  for (const Series& se : series)
    for (const auto& [x, y] : se.points)
      if (std::isfinite(ty(y))) xr.add(x), yr.add(ty(y));
  if (xr.empty()) return empty_chart(o.title, "no values logged");
  xr.pad();
  yr.pad();
  const double x0 = kLeft, x1 = kW - kRight, y0 = kH - kBottom, y1 = kTop;
  auto sx = [&](double x) { return x0 + (x - xr.lo) / (xr.hi - xr.lo) * (x1 - x0); };
  auto sy = [&](double y) { return y0 - (y - yr.lo) / (yr.hi - yr.lo) * (y0 - y1); };
  std::ostringstream s;
  s << open_svg(o.title, "line");
  axes(s, xr, yr, sx, sy, o.x_label, o.y_label, o.log_y);
  for (const auto& [x, label] : o.markers) {
    if (x < xr.lo || x > xr.hi) continue;
    s << "<line x1=\"" << fmt(sx(x)) << "\" x2=\"" << fmt(sx(x)) << "\" y1=\"" << y1 << "\" y2=\""
      << y0 << "\" class=\"marker\"/><text x=\"" << fmt(sx(x) + 3) << "\" y=\"" << y1 + 12
      << "\" class=\"note\">" << escape(label) << "</text>";
  }
  std::vector<std::pair<std::string, std::string>> items;
  for (const Series& se : series) {
    std::ostringstream d;
    size_t n = 0;
    for (const auto& [x, y] : se.points) {
      const double v = ty(y);
      if (!std::isfinite(v) || !std::isfinite(x)) continue;
      d << (n++ ? " L" : "M") << fmt(sx(x)) << ' ' << fmt(sy(v));
    }
    if (n == 0) continue;
    if (n == 1) d << " l0.01 0";  // a lone point still draws (round caps)
    s << "<path d=\"" << d.str() << "\" stroke=\"" << se.color << "\" class=\"series\"/>";
    items.emplace_back(se.name, se.color);
  }
  if (items.size() > 1) legend(s, items);
  s << "</svg>";
  return s.str();
}

std::string heatmap(const std::string& title, const std::vector<double>& x,
                    const std::vector<std::vector<double>>& values, const std::string& y_label) {
  size_t experts = 0;
  Range vr, xr;
  for (size_t t = 0; t < values.size(); ++t) {
    experts = std::max(experts, values[t].size());
    for (double v : values[t]) vr.add(v);
    if (t < x.size()) xr.add(x[t]);
  }
  if (values.empty() || experts == 0 || vr.empty())
    return empty_chart(title, "no expert load logged");
  xr.pad();
  const double x0 = kLeft, x1 = kW - kRight, y0 = kH - kBottom, y1 = kTop;
  const double cw = (x1 - x0) / static_cast<double>(values.size());
  const double ch = (y0 - y1) / static_cast<double>(experts);
  const double span = vr.hi > vr.lo ? vr.hi - vr.lo : 1.0;
  // Sequential scale from pale yellow (low) to dark blue (high), interpolated in RGB.
  auto color = [&](double v) {
    const double u = std::clamp((v - vr.lo) / span, 0.0, 1.0);
    const int r = static_cast<int>(255 + u * (8 - 255)), g = static_cast<int>(247 + u * (48 - 247)),
              b = static_cast<int>(188 + u * (107 - 188));
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
    return std::string(buf);
  };
  std::ostringstream s;
  s << open_svg(title, "heatmap");
  for (size_t t = 0; t < values.size(); ++t) {
    for (size_t e = 0; e < values[t].size(); ++e) {
      if (!std::isfinite(values[t][e])) continue;
      s << "<rect x=\"" << fmt(x0 + cw * t) << "\" y=\"" << fmt(y1 + ch * e) << "\" width=\""
        << fmt(cw + 0.3) << "\" height=\"" << fmt(ch + 0.3) << "\" fill=\"" << color(values[t][e])
        << "\"/>";
    }
  }
  s << "<rect x=\"" << x0 << "\" y=\"" << y1 << "\" width=\"" << x1 - x0 << "\" height=\""
    << y0 - y1 << "\" class=\"frame\"/>";
  const size_t label_every = std::max<size_t>(1, experts / 8);
  for (size_t e = 0; e < experts; e += label_every) {
    s << "<text x=\"" << x0 - 6 << "\" y=\"" << fmt(y1 + ch * (e + 0.5) + 4)
      << "\" text-anchor=\"end\">" << e << "</text>";
  }
  for (size_t t : {size_t{0}, values.size() - 1}) {
    if (t >= x.size()) continue;
    s << "<text x=\"" << fmt(x0 + cw * (t + 0.5)) << "\" y=\"" << y0 + 16
      << "\" text-anchor=\"middle\">" << format_number(x[t]) << "</text>";
  }
  s << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << kH - 10
    << "\" text-anchor=\"middle\">step</text><text transform=\"translate(14 " << (y0 + y1) / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << escape(y_label) << "</text>";
  for (int i = 0; i < 10; ++i) {  // colour bar
    const double v = vr.lo + span * (9 - i) / 9.0;
    s << "<rect x=\"" << kW - kRight + 14 << "\" y=\"" << y1 + 18 * i
      << "\" width=\"14\" height=\"18\" fill=\"" << color(v) << "\"/>";
  }
  s << "<text x=\"" << kW - kRight + 32 << "\" y=\"" << y1 + 12 << "\">" << format_number(vr.hi)
    << "</text><text x=\"" << kW - kRight + 32 << "\" y=\"" << y1 + 178 << "\">"
    << format_number(vr.lo) << "</text></svg>";
  return s.str();
}

std::string bar_chart(const std::string& title, const std::vector<std::string>& groups,
                      const std::vector<std::string>& series,
                      const std::vector<std::vector<double>>& values) {
  Range vr;
  vr.add(0.0);
  for (const auto& row : values)
    for (double v : row) vr.add(v);
  if (groups.empty() || series.empty() || vr.hi == vr.lo)
    return empty_chart(title, "no evaluation results");
  vr.pad();
  const double x0 = kLeft, x1 = kW - kRight, y0 = kH - kBottom, y1 = kTop;
  auto sy = [&](double y) { return y0 - (y - vr.lo) / (vr.hi - vr.lo) * (y0 - y1); };
  const double gw = (x1 - x0) / static_cast<double>(groups.size());
  const double bw = gw * 0.8 / static_cast<double>(series.size());
  std::ostringstream s;
  s << open_svg(title, "bars");
  for (double t : ticks(vr.lo, vr.hi)) {
    s << "<line x1=\"" << x0 - 4 << "\" x2=\"" << x1 << "\" y1=\"" << fmt(sy(t)) << "\" y2=\""
      << fmt(sy(t)) << "\" class=\"grid\"/><text x=\"" << x0 - 6 << "\" y=\"" << fmt(sy(t) + 4)
      << "\" text-anchor=\"end\">" << format_number(t) << "</text>";
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t k = 0; k < series.size(); ++k) {
      const double v = g < values.size() && k < values[g].size() ? values[g][k] : NAN;
      if (!std::isfinite(v)) continue;
      const double top = std::min(sy(v), sy(0)), h = std::fabs(sy(v) - sy(0));
      s << "<rect x=\"" << fmt(x0 + gw * g + gw * 0.1 + bw * k) << "\" y=\"" << fmt(top)
        << "\" width=\"" << fmt(bw) << "\" height=\"" << fmt(std::max(h, 0.5)) << "\" fill=\""
        << palette(k) << "\"><title>"
        << escape(series[k] + " " + groups[g] + " = " + format_number(v)) << "</title></rect>";
    }
    std::string name = groups[g].size() > 14 ? groups[g].substr(0, 13) + "…" : groups[g];
    s << "<text x=\"" << fmt(x0 + gw * (g + 0.5)) << "\" y=\"" << y0 + 16
      << "\" text-anchor=\"middle\" class=\"small\">" << escape(name) << "</text>";
  }
  s << "<line x1=\"" << x0 << "\" x2=\"" << x1 << "\" y1=\"" << fmt(sy(0)) << "\" y2=\""
    << fmt(sy(0)) << "\" class=\"tick\"/>";
  std::vector<std::pair<std::string, std::string>> items;
  for (size_t k = 0; k < series.size(); ++k) items.emplace_back(series[k], palette(k));
  legend(s, items);
  s << "</svg>";
  return s.str();
}

std::string scatter(const std::string& title, const std::vector<ScatterPoint>& points,
                    const std::vector<std::string>& group_names) {
  Range xr, yr;
  for (const ScatterPoint& p : points)
    if (std::isfinite(p.x) && std::isfinite(p.y)) xr.add(p.x), yr.add(p.y);
  if (xr.empty()) return empty_chart(title, "no embeddings sampled");
  xr.pad();
  yr.pad();
  const double x0 = kLeft, x1 = kW - kRight, y0 = kH - kBottom, y1 = kTop;
  auto sx = [&](double x) { return x0 + 4 + (x - xr.lo) / (xr.hi - xr.lo) * (x1 - x0 - 8); };
  auto sy = [&](double y) { return y0 - 4 - (y - yr.lo) / (yr.hi - yr.lo) * (y0 - y1 - 8); };
  std::ostringstream s;
  s << open_svg(title, "scatter");
  axes(s, xr, yr, sx, sy, "PC 1", "PC 2", false);
  for (const ScatterPoint& p : points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    s << "<circle cx=\"" << fmt(sx(p.x)) << "\" cy=\"" << fmt(sy(p.y)) << "\" r=\"2.6\" fill=\""
      << palette(p.group) << "\"/>";
  }
  std::vector<std::pair<std::string, std::string>> items;
  for (size_t g = 0; g < group_names.size(); ++g) items.emplace_back(group_names[g], palette(g));
  legend(s, items);
  s << "</svg>";
  return s.str();
}

}  // namespace chorus::recipe::svg
