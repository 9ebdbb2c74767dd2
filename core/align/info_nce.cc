#include "core/align/info_nce.h"

#include <cmath>
#include <limits>

#include "core/align/normalize.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"

namespace chorus::align {

LogitScale::LogitScale(double init_temperature, double max_scale, DType dtype)
    : Module("LogitScale"), max_log_(std::log(max_scale)) {
  CHORUS_CHECK(init_temperature > 0 && max_scale > 0,
               "LogitScale: temperature and max scale must be positive, got ", init_temperature,
               " and ", max_scale);
  log_scale =
      register_parameter("log_scale", Tensor::scalar(std::log(1.0 / init_temperature), dtype));
}

Tensor LogitScale::scale() const {
  return exp(clamp(log_scale, -std::numeric_limits<double>::infinity(), max_log_));
}

double LogitScale::value() const { return std::exp(std::min(log_scale.item(), max_log_)); }

namespace {

void check_pair(const Tensor& a, const Tensor& b) {
  CHORUS_CHECK(a.dim() == 2 && b.dim() == 2, "info_nce: expected embeddings [B, D], got ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  CHORUS_CHECK(a.size(0) == b.size(0) && a.size(1) == b.size(1),
               "info_nce: the two modalities' embeddings differ in shape: ", shape_str(a.shape()),
               " vs ", shape_str(b.shape()));
  CHORUS_CHECK(a.size(0) >= 1, "info_nce: empty batch");
}

Tensor symmetric_ce(const Tensor& logits) {
  const Tensor targets = Tensor::arange(0, logits.size(0)).to(logits.device());
  return mul(add(cross_entropy(logits, targets), cross_entropy(logits.t().contiguous(), targets)),
             0.5);
}

}  // namespace

Tensor info_nce(const Tensor& a, const Tensor& b, const Tensor& scale) {
  check_pair(a, b);
  CHORUS_CHECK(scale.defined() && scale.numel() == 1,
               "info_nce: the logit scale must be one value");
  const Tensor sim = matmul(l2_normalize(a), l2_normalize(b).t());
  return symmetric_ce(mul(sim, scale.reshape({})));
}

Tensor info_nce(const Tensor& a, const Tensor& b, double temperature) {
  check_pair(a, b);
  CHORUS_CHECK(temperature > 0, "info_nce: temperature must be positive, got ", temperature);
  const Tensor sim = matmul(l2_normalize(a), l2_normalize(b).t());
  return symmetric_ce(mul(sim, 1.0 / temperature));
}

PairLosses multi_pair_info_nce(const std::map<std::string, Tensor>& embeddings,
                               const std::vector<PairSpec>& pairs, const Tensor& scale,
                               const std::optional<std::string>& anchor) {
  std::vector<PairSpec> used = pairs;
  if (used.empty()) {
    for (auto i = embeddings.begin(); i != embeddings.end(); ++i) {
      for (auto j = std::next(i); j != embeddings.end(); ++j)
        used.push_back(PairSpec{i->first, j->first, 1.0, std::nullopt});
    }
  }
  if (anchor) {
    CHORUS_CHECK(embeddings.count(*anchor), "multi_pair_info_nce: anchor modality '", *anchor,
                 "' has no embeddings in this batch");
    std::erase_if(used, [&](const PairSpec& p) { return p.a != *anchor && p.b != *anchor; });
  }
  CHORUS_CHECK(!used.empty(), "multi_pair_info_nce: no modality pair to align (", embeddings.size(),
               " modalities", anchor ? ", anchor '" + *anchor + "'" : "", ")");
  PairLosses out;
  for (const PairSpec& p : used) {
    for (const std::string* m : {&p.a, &p.b}) {
      CHORUS_CHECK(embeddings.count(*m), "multi_pair_info_nce: pair ", p.a, "-", p.b,
                   " names modality '", *m, "', which has no embeddings in this batch");
    }
    const Tensor& ea = embeddings.at(p.a);
    const Tensor& eb = embeddings.at(p.b);
    Tensor loss;
    if (p.temperature) {
      loss = info_nce(ea, eb, *p.temperature);
    } else {
      CHORUS_CHECK(scale.defined(), "multi_pair_info_nce: pair ", p.a, "-", p.b,
                   " has no fixed temperature and no learnable logit scale was given");
      loss = info_nce(ea, eb, scale);
    }
    out.terms.emplace_back(p.a + "-" + p.b, loss);
    const Tensor weighted = mul(loss, p.weight);
    out.total = out.total.defined() ? add(out.total, weighted) : weighted;
  }
  return out;
}

}  // namespace chorus::align
