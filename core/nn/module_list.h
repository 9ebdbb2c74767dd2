// ModuleList: an ordered list of child modules registered as "0", "1", ..., so a stack of
// blocks produces state_dict names like "blocks.3.attn.q.weight" (PyTorch's nn.ModuleList).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/nn/module.h"

namespace chorus::nn {

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}

  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    register_module(std::to_string(items_.size()), module);
    items_.push_back(module);
    return module;
  }

  size_t size() const { return items_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const {
    CHORUS_CHECK(i < items_.size(), "ModuleList: index ", i, " out of ", items_.size());
    return items_[i];
  }

 private:
  std::vector<std::shared_ptr<Module>> items_;
};

}  // namespace chorus::nn
