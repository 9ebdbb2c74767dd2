#include "core/recipe/components.h"

#include <set>

#include "core/data/mixed_source.h"
#include "core/plugin/options.h"
#include "core/recipe/hooks.h"
#include "core/recipe/plugin_check.h"

namespace chorus::recipe {

namespace {

class RegistryCatalog : public PluginCatalog {
 public:
  explicit RegistryCatalog(std::shared_ptr<plugin::Registry> registry)
      : registry_(std::move(registry)) {}

  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& p : registry_->plugins()) out.push_back(p->name());
    return out;
  }

  std::vector<OptionProblem> check_options(const std::string& name, const nlohmann::json& options,
                                           const std::string& base_dir,
                                           nlohmann::json* resolved) const override {
    auto found = registry_->Find(name);
    if (!found.ok()) return {{"", std::string(found.status().message())}};
    plugin::Options out;
    std::vector<OptionProblem> problems;
    for (const auto& e : plugin::CheckOptions((*found)->option_schema(), options, base_dir, &out)) {
      problems.push_back({e.option, e.message});
    }
    if (problems.empty() && resolved != nullptr) *resolved = out;
    return problems;
  }

 private:
  std::shared_ptr<plugin::Registry> registry_;
};

absl::Status with_context(const absl::Status& s, const std::string& context) {
  return absl::Status(s.code(), context + ": " + std::string(s.message()));
}

}  // namespace

std::map<std::string, std::string> Components::plugin_versions() const {
  std::map<std::string, std::string> out;
  for (const auto& [modality, p] : plugins) {
    out[modality] = p->name() + " " + p->info().version + " " + p->info().path;
  }
  return out;
}

std::vector<ModalityPair> Components::trained_pairs(const RecipeConfig& config) const {
  std::set<ModalityPair> seen;
  std::vector<ModalityPair> out;
  for (const auto& stage : config.stages) {
    for (const auto& p : stage.pairs) {
      if (stage.anchor && p.first != *stage.anchor && p.second != *stage.anchor) continue;
      if (seen.insert(p).second) out.push_back(p);
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Components>> build_components(const RecipeConfig& config) {
  auto c = std::make_unique<Components>();
  c->registry = std::make_shared<plugin::Registry>();
  c->registry->Discover(config.plugin_paths);
  std::map<std::string, ModalityIo> io;
  std::map<std::string, std::shared_ptr<plugin::Encoder>> encoders;
  for (const auto& m : config.modalities) {
    auto found = c->registry->Find(m.plugin);
    if (!found.ok()) return with_context(found.status(), "modality '" + m.name + "'");
    const auto& plugin = *found;
    c->plugins[m.name] = plugin;
    auto decoder = plugin->MakeDecoder(m.options);
    if (!decoder.ok()) return with_context(decoder.status(), "modality '" + m.name + "' decoder");
    plugin::EncoderConfig ec;
    ec.shared_width = config.model.shared_width;
    ec.options = m.options;
    ec.seed = data::mix_seed(config.run.seed, std::hash<std::string>{}(m.name));
    auto encoder = plugin->MakeEncoder(ec);
    if (!encoder.ok()) return with_context(encoder.status(), "modality '" + m.name + "' encoder");
    io[m.name] = {*decoder, plugin->info().manifest_value};
    encoders[m.name] = *encoder;
    if (plugin->info().modality == plugin::Modality::kText && !c->prompt_encoder.decoder) {
      c->prompt_encoder = {m.name, *decoder};
    }
  }
  Generator gen(data::mix_seed(config.run.seed, 0x616c69676eULL));  // "align"
  try {
    c->model = std::make_shared<AlignModel>(config, std::move(encoders), gen);
  } catch (const Error& e) {
    // E.g. a model.core whose heads do not divide its width.
    return absl::InvalidArgumentError(std::string("model: ") + e.what());
  }

  std::string classes = config.data.classes;
  if (config.eval.zero_shot && !config.eval.zero_shot->classes.empty()) {
    classes = config.eval.zero_shot->classes;
  }
  if (!classes.empty()) {
    auto prompts = load_class_prompts(classes);
    if (!prompts.ok()) return prompts.status();
    if (config.data.num_classes && *config.data.num_classes != prompts->num_classes()) {
      return absl::InvalidArgumentError(
          "data.num_classes is " + std::to_string(*config.data.num_classes) + " but " + classes +
          " lists " + std::to_string(prompts->num_classes()) + " classes");
    }
    c->prompts = std::move(*prompts);
  }
  c->data = std::make_unique<DataSetup>(config, std::move(io));
  return c;
}

PluginCatalogFactory registry_catalog_factory() {
  return [](const std::vector<std::string>& plugin_paths)
             -> absl::StatusOr<std::shared_ptr<const PluginCatalog>> {
    auto registry = std::make_shared<plugin::Registry>();
    registry->Discover(plugin_paths);
    return std::make_shared<const RegistryCatalog>(std::move(registry));
  };
}

void install_recipe_hooks() {
  RecipeHooks& hooks = recipe_hooks();
  hooks.plugins = registry_catalog_factory();
  hooks.instantiate = [](const Recipe& r) -> absl::Status {
    auto c = build_components(r.config);
    if (!c.ok()) return c.status();
    // The training mixture must exist for the first stage to run.
    auto source = (*c)->data->source(r.config.data.train_split);
    if (!source.ok()) return source.status();
    try {
      for (const auto& stage : r.config.stages) {
        if (stage.kind == StageKind::kTask) continue;  // its head was built with the model
        StageObjective objective(*(*c)->model, stage, (*c)->prompts_or_null(), (*c)->prompt_encoder,
                                 source->get(), stage.task ? r.config.task(*stage.task) : nullptr);
      }
    } catch (const Error& e) {
      return absl::InvalidArgumentError(e.what());
    }
    return absl::OkStatus();
  };
}

}  // namespace chorus::recipe
