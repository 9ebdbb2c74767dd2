// `chorus plugins new NAME [--dir D]`: copies the template plugin (plugins/template, installed
// as <prefix>/share/chorus/template) into D (default ./NAME), renaming skeleton/Skeleton/
// SKELETON to NAME in file names and contents, so it builds as is against the engine.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/chorus/plugins_args.h"

namespace chorus::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPlaceholder = "skeleton";

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// depth_map -> DepthMap
std::string Camel(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string Rename(const std::string& text, const std::string& name) {
  std::string out = ReplaceAll(text, kPlaceholder, name);
  out = ReplaceAll(out, Camel(kPlaceholder), Camel(name));
  return ReplaceAll(out, Upper(kPlaceholder), Upper(name));
}

// <exe dir>/../share/chorus/template: the installed layout, mirrored in the build tree.
fs::path TemplateDir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().parent_path() / "share/chorus/template";
}

}  // namespace

int run_plugins_new(const PluginArgs& args) {
  if (args.positional.size() != 1 || !ValidName(args.positional[0])) {
    std::cerr << "chorus plugins new: expected one NAME: lower case letters, digits and '_', "
                 "starting with a letter (it becomes a C++ namespace and the recipe name)\n";
    return 2;
  }
  const std::string name = args.positional[0];
  const fs::path dir =
      args.values.count("--dir") ? fs::path(args.values.at("--dir")) : fs::path(name);
  const fs::path source = TemplateDir();
  std::error_code ec;
  if (source.empty() || !fs::is_directory(source, ec)) {
    std::cerr << "chorus plugins new: template not found at " << source.string()
              << " (is this chorus installed with its share/ folder?)\n";
    return 1;
  }
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    std::cerr << "chorus plugins new: " << dir.string() << " already exists and is not empty\n";
    return 1;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "chorus plugins new: cannot create " << dir.string() << ": " << ec.message()
              << "\n";
    return 1;
  }
  int written = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(source, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const fs::path target = dir / Rename(entry.path().filename().string(), name);
    std::ofstream out(target, std::ios::binary);
    out << Rename(text.str(), name);
    if (!in || !out) {
      std::cerr << "chorus plugins new: cannot copy " << entry.path().string() << " to "
                << target.string() << "\n";
      return 1;
    }
    ++written;
  }
  std::cout << "created plugin '" << name << "' in " << dir.string() << " (" << written
            << " files). Next:\n"
            << "  cmake -S " << dir.string() << " -B " << (dir / "build").string()
            << " -DCMAKE_PREFIX_PATH=<chorus prefix>\n"
            << "  cmake --build " << (dir / "build").string() << "\n"
            << "  CHORUS_PLUGIN_PATH=" << fs::absolute(dir / "build/lib/chorus/plugins").string()
            << " chorus plugins info " << name << "\n";
  return 0;
}

}  // namespace chorus::cli
