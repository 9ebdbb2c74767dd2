#include "core/recipe/cross_checks.h"

#include <algorithm>
#include <map>

#include "core/recipe/scalars.h"
#include "core/recipe/schema.h"

namespace chorus::recipe {
namespace {

class CrossChecker {
 public:
  CrossChecker(Node& root, const ValidateOptions& options, Diagnostics& diags)
      : root_(root), options_(options), diags_(diags) {
    if (const Node* m = root.find("modalities"); m && m->is_map()) modalities_ = m->keys();
  }

  void run() {
    if (const Node* m = root_.find("modalities"); m && m->is_map() && m->entries().empty()) {
      diags_.add(m->loc(), "modalities",
                 "no modalities: name at least one, e.g. image: {plugin: image}");
    }
    model();
    if (Node* stages = root_.find("stages"); stages && stages->is_list()) {
      std::map<std::string, int> first_line;
      for (size_t i = 0; i < stages->items().size(); ++i) {
        stage(stages->items()[i], "stages." + std::to_string(i), first_line);
      }
    }
    if (Node* tasks = root_.find("tasks"); tasks && tasks->is_map()) {
      for (const MapEntry& t : tasks->entries()) task(t.value, "tasks." + t.key);
    }
    if (const Node* eval = root_.find("eval"); eval && eval->is_map()) {
      for (const char* section : {"retrieval", "emergent"}) {
        const Node* s = eval->find(section);
        if (s && s->is_map()) {
          pairs(s->find("pairs"), std::string("eval.") + section + ".pairs");
        }
      }
      const Node* zero_shot = eval->find("zero_shot");
      const Node* data = root_.find("data");
      if (zero_shot && zero_shot->is_map() && !zero_shot->find("classes") &&
          !(data && data->is_map() && data->find("classes"))) {
        diags_.add(zero_shot->loc(), "eval.zero_shot",
                   "zero-shot evaluation needs a classes file: set eval.zero_shot.classes or "
                   "data.classes");
      }
      if (zero_shot && zero_shot->is_map()) {
        modality(zero_shot->find("modality"), "eval.zero_shot.modality");
      }
    }
  }

 private:
  void model() {
    const Node* model = root_.find("model");
    const Node* core = model && model->is_map() ? model->find("core") : nullptr;
    if (!core || !core->is_map()) return;
    const Node* top_k = core->find("top_k");
    const Node* experts = core->find("experts");
    if (top_k && experts && as_int(*top_k) && as_int(*experts) &&
        *as_int(*top_k) > *as_int(*experts)) {
      diags_.add(
          top_k->loc(), "model.core.top_k",
          "top_k " + top_k->value() + " exceeds the number of experts (" + experts->value() + ")");
    }
  }

  void modality(const Node* name, const std::string& path) {
    if (name == nullptr || !name->is_scalar() || modalities_.empty()) return;
    for (const std::string& m : modalities_) {
      if (m == name->value()) return;
    }
    std::string known;
    for (const std::string& m : modalities_) known += (known.empty() ? "" : ", ") + m;
    diags_.add(name->loc(), path,
               "unknown modality '" + name->value() + "'" +
                   did_you_mean(name->value(), modalities_) +
                   "; the recipe's modalities are: " + known);
  }

  void pairs(const Node* list, const std::string& path) {
    if (list == nullptr || !list->is_list()) return;
    for (size_t i = 0; i < list->items().size(); ++i) {
      const Node& p = list->items()[i];
      if (!p.is_list() || p.items().size() != 2) continue;
      const std::string pair_path = path + "." + std::to_string(i);
      modality(&p.items()[0], pair_path + ".0");
      modality(&p.items()[1], pair_path + ".1");
      if (p.items()[0].value() == p.items()[1].value()) {
        diags_.add(p.loc(), pair_path, "a pair needs two different modalities");
      }
    }
  }

  void stage(Node& s, const std::string& path, std::map<std::string, int>& first_line) {
    if (!s.is_map()) return;
    if (const Node* name = s.find("name"); name && name->is_scalar()) {
      auto [it, inserted] = first_line.emplace(name->value(), name->loc().line);
      if (!inserted) {
        diags_.add(name->loc(), path + ".name",
                   "duplicate stage name '" + name->value() + "' (first used at line " +
                       std::to_string(it->second) + "); stage names must be unique");
      }
    }
    const bool steps = s.find("steps") != nullptr, epochs = s.find("epochs") != nullptr;
    if (steps == epochs) {
      diags_.add(
          s.loc(), path,
          steps ? "give steps or epochs, not both" : "missing stage length: give steps or epochs");
    }
    const Node* kind = s.find("kind");
    const bool is_task = kind && kind->is_scalar() && kind->value() == "task";
    const Node* pair_list = s.find("pairs");
    pairs(pair_list, path + ".pairs");
    if (pair_list == nullptr && !is_task) {
      diags_.add(s.loc(), path + ".pairs",
                 "missing required key 'pairs' (the modality pairs this stage aligns, e.g. "
                 "[[image, text]])");
    }
    stage_task(s, path, is_task);
    if (const Node* anchor = s.find("anchor"); anchor && anchor->is_scalar()) {
      modality(anchor, path + ".anchor");
      bool used = false;
      if (pair_list && pair_list->is_list()) {
        for (const Node& p : pair_list->items()) {
          for (const Node& m : p.items()) used = used || m.value() == anchor->value();
        }
      }
      if (!used) {
        diags_.add(anchor->loc(), path + ".anchor",
                   "anchor '" + anchor->value() + "' is in none of this stage's pairs");
      }
    }
    // No losses given: the stage's own kind, with defaults.
    const bool known_kind = kind && kind->is_scalar() &&
                            (kind->value() == "instance" || kind->value() == "cluster" ||
                             kind->value() == "semantic" || is_task);
    if (s.find("losses") == nullptr && known_kind) {
      const Field* losses = schema_at(engine_schema(), {"stages", "0", "losses"});
      Node filled = Node::map(Location{"", 0, 0, "default of " + path + ".losses"});
      filled.set(kind->value(), Node::map(filled.loc()), filled.loc());
      validate_value(s.set("losses", std::move(filled)), *losses, path + ".losses", options_,
                     diags_);
    } else if (const Node* l = s.find("losses"); l && l->is_map() && l->entries().empty()) {
      diags_.add(l->loc(), path + ".losses",
                 is_task ? "no loss term: a task stage needs losses.task"
                         : "no loss term: give instance, cluster or semantic");
    } else if (l && l->is_map()) {
      // A task stage trains only the task's loss; the contrastive terms need pairs, and a
      // contrastive stage has no fused classifier to train.
      for (const MapEntry& e : l->entries()) {
        if (is_task != (e.key == "task")) {
          diags_.add(e.key_loc, path + ".losses." + e.key,
                     is_task ? "a task stage takes only losses.task"
                             : "losses.task belongs to task stages (kind: task)");
        }
      }
    }
  }

  // The stage's `task`: required by task stages, and it must name an entry of `tasks`. A
  // contrastive stage may name one whose weights are fixed (a gate needs fused inputs).
  void stage_task(const Node& s, const std::string& path, bool is_task) {
    const Node* task = s.find("task");
    if (task == nullptr || !task->is_scalar()) {
      if (is_task && task == nullptr) {
        diags_.add(s.loc(), path + ".task",
                   "missing required key 'task': a task stage names an entry of `tasks`");
      }
      return;
    }
    const Node* tasks = root_.find("tasks");
    const Node* t = tasks && tasks->is_map() ? tasks->find(task->value()) : nullptr;
    if (t == nullptr) {
      std::vector<std::string> known =
          tasks && tasks->is_map() ? tasks->keys() : std::vector<std::string>{};
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      diags_.add(task->loc(), path + ".task",
                 "unknown task '" + task->value() + "'" + did_you_mean(task->value(), known) +
                     (known.empty() ? "; the recipe defines no tasks (add tasks." + task->value() +
                                          ": {weights: {...}})"
                                    : "; the recipe's tasks are: " + list));
      return;
    }
    const Node* mode = t->is_map() ? t->find("mode") : nullptr;
    if (!is_task && mode && mode->is_scalar() && mode->value() == "learned") {
      diags_.add(task->loc(), path + ".task",
                 "task '" + task->value() +
                     "' has mode: learned, which a contrastive stage cannot use (a learned gate "
                     "needs fused inputs); use a task with fixed weights, or kind: task");
    }
    if (is_task) {
      const Node* data = root_.find("data");
      if (data && data->is_map() && data->find("num_classes") == nullptr) {
        diags_.add(task->loc(), path + ".task",
                   "a task stage trains a classifier: set data.num_classes");
      }
    }
  }

  void task(const Node& t, const std::string& path) {
    const Node* weights = t.is_map() ? t.find("weights") : nullptr;
    if (weights == nullptr || !weights->is_map()) return;
    double total = 0;
    for (const MapEntry& w : weights->entries()) {
      if (!modalities_.empty() &&
          std::find(modalities_.begin(), modalities_.end(), w.key) == modalities_.end()) {
        diags_.add(w.key_loc, path + ".weights." + w.key,
                   "unknown modality '" + w.key + "'" + did_you_mean(w.key, modalities_));
      }
      total += as_float(w.value).value_or(0.0);
    }
    if (weights->entries().empty() || total <= 0) {
      diags_.add(weights->loc(), path + ".weights", "weights must include a positive value");
    }
  }

  Node& root_;
  const ValidateOptions& options_;
  Diagnostics& diags_;
  std::vector<std::string> modalities_;
};

}  // namespace

void cross_check(Node& root, const ValidateOptions& options, Diagnostics& diags) {
  CrossChecker(root, options, diags).run();
}

}  // namespace chorus::recipe
