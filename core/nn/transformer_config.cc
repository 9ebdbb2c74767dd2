#include "core/nn/transformer_config.h"

#include <cmath>

namespace chorus::nn {

int64_t TransformerConfig::resolved_ffn_hidden() const {
  if (ffn_hidden > 0) return ffn_hidden;
  if (ffn == FfnKind::kMLP) return 4 * width;
  const int64_t h = (8 * width + 2) / 3;  // ceil(8·width / 3)
  return (h + 7) / 8 * 8;
}

double TransformerConfig::residual_init_std() const {
  return scale_residual_init ? init_std / std::sqrt(2.0 * static_cast<double>(depth)) : init_std;
}

void TransformerConfig::validate() const {
  CHORUS_CHECK(width > 0, "TransformerConfig: width must be positive, got ", width);
  CHORUS_CHECK(depth >= 0, "TransformerConfig: depth must not be negative, got ", depth);
  CHORUS_CHECK(n_heads > 0, "TransformerConfig: n_heads must be positive, got ", n_heads);
  CHORUS_CHECK(n_kv_heads >= 0 && n_heads % kv_heads() == 0, "TransformerConfig: n_kv_heads ",
               n_kv_heads, " must divide n_heads ", n_heads);
  CHORUS_CHECK(head_dim > 0 || width % n_heads == 0, "TransformerConfig: width ", width,
               " is not divisible by n_heads ", n_heads, "; set head_dim");
  CHORUS_CHECK(!rope || resolved_head_dim() % 2 == 0, "TransformerConfig: rope needs an even ",
               "head_dim, got ", resolved_head_dim());
  CHORUS_CHECK(ffn_hidden >= 0, "TransformerConfig: ffn_hidden must not be negative, got ",
               ffn_hidden);
  CHORUS_CHECK(dropout >= 0.0 && dropout <= 1.0, "TransformerConfig: dropout ", dropout,
               " is outside [0, 1]");
  CHORUS_CHECK(norm_eps >= 0.0, "TransformerConfig: norm_eps must not be negative");
  CHORUS_CHECK(init_std > 0.0, "TransformerConfig: init_std must be positive, got ", init_std);
  CHORUS_CHECK(rope_base > 0.0, "TransformerConfig: rope_base must be positive");
}

}  // namespace chorus::nn
