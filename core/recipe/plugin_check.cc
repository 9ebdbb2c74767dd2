#include "core/recipe/plugin_check.h"

#include <algorithm>
#include <filesystem>

#include "core/recipe/config_build.h"

namespace chorus::recipe {

Node from_json(const nlohmann::json& j, const Location& loc) {
  if (j.is_null()) return Node::null(loc);
  if (j.is_array()) {
    Node out = Node::list(loc);
    for (const auto& item : j) out.items().push_back(from_json(item, loc));
    return out;
  }
  if (j.is_object()) {
    Node out = Node::map(loc);
    for (const auto& [key, value] : j.items()) out.set(key, from_json(value, loc), loc);
    return out;
  }
  if (j.is_string()) {
    Node out = Node::scalar(j.get<std::string>(), loc, false);
    // A string that reads as something else must stay a string when printed and reloaded.
    const nlohmann::json back = to_json(out);
    if (!back.is_string()) out.set_value(j.get<std::string>(), true);
    return out;
  }
  return Node::scalar(j.dump(), loc, false);
}

void check_plugins(Node& root, const PluginCatalog& catalog, Diagnostics& diags) {
  Node* modalities = root.find("modalities");
  if (modalities == nullptr || !modalities->is_map()) return;
  const std::vector<std::string> known = catalog.names();
  for (MapEntry& m : modalities->entries()) {
    if (!m.value.is_map()) continue;
    const std::string path = "modalities." + m.key;
    const Node* plugin = m.value.find("plugin");
    if (plugin == nullptr || !plugin->is_scalar()) continue;
    const std::string& name = plugin->value();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      diags.add(plugin->loc(), path + ".plugin",
                "plugin '" + name + "' not found" + did_you_mean(name, known) +
                    (known.empty() ? "; no plugins were found (see `chorus plugins list`)"
                                   : "; available: " + list));
      continue;
    }
    Node* options = m.value.find("options");
    const Location options_loc = options ? options->loc() : m.value.loc();
    const nlohmann::json given = options ? to_json(*options) : nlohmann::json::object();
    std::string base_dir;
    if (options_loc.from_file()) {
      std::error_code ec;
      base_dir = std::filesystem::absolute(options_loc.file, ec).parent_path().string();
    }
    nlohmann::json resolved;
    const auto problems = catalog.check_options(name, given, base_dir, &resolved);
    for (const OptionProblem& p : problems) {
      const MapEntry* entry =
          options && options->is_map() ? options->find_entry(p.option) : nullptr;
      diags.add(entry ? entry->key_loc : options_loc,
                p.option.empty() ? path + ".options" : path + ".options." + p.option,
                "plugin '" + name + "': " + p.message);
    }
    if (problems.empty() && resolved.is_object()) {
      // Keep each option's own location where the recipe wrote it.
      Node replaced = Node::map(options_loc);
      for (const auto& [key, value] : resolved.items()) {
        const MapEntry* entry = options && options->is_map() ? options->find_entry(key) : nullptr;
        const Location loc = entry ? entry->value.loc() : Location{"", 0, 0, "plugin default"};
        replaced.set(key, from_json(value, loc), entry ? entry->key_loc : loc);
      }
      m.value.set("options", std::move(replaced));
    }
  }
}

}  // namespace chorus::recipe
