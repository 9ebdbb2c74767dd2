#include "tools/chorus/data_captions.h"

namespace chorus::cli {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

const std::vector<FmnistClass>& fmnist_classes() {
  static const std::vector<FmnistClass> classes = {{"T-shirt/top", "t-shirt"},
                                                   {"Trouser", "pair of trousers"},
                                                   {"Pullover", "pullover"},
                                                   {"Dress", "dress"},
                                                   {"Coat", "coat"},
                                                   {"Sandal", "sandal"},
                                                   {"Shirt", "shirt"},
                                                   {"Sneaker", "sneaker"},
                                                   {"Bag", "bag"},
                                                   {"Ankle boot", "ankle boot"}};
  return classes;
}

const std::vector<std::string>& caption_templates() {
  static const std::vector<std::string> templates = {"a photo of {a} {n}",
                                                     "a picture of {a} {n}",
                                                     "a grey {n}",
                                                     "a black and white photo of {a} {n}",
                                                     "a small image of {a} {n}",
                                                     "this is {a} {n}"};
  return templates;
}

std::string caption(int label, int template_index) {
  const std::string& noun = fmnist_classes()[label].noun;
  std::string text = caption_templates()[template_index];
  const bool vowel = std::string("aeiou").find(noun[0]) != std::string::npos;
  replace_all(text, "{a}", vowel ? "an" : "a");
  replace_all(text, "{n}", noun);
  return text;
}

// espeak-ng voices with variants (voices/!v), speeds in words per minute and pitches 0..99.
const std::vector<Voice>& train_voices() {
  static const std::vector<Voice> voices = {{"en-us+m3", 160, 45}, {"en-us+f2", 170, 60},
                                            {"en-gb+m1", 150, 35}, {"en-gb+f4", 175, 70},
                                            {"en-us+m5", 140, 50}, {"en-gb+f1", 155, 55}};
  return voices;
}

const std::vector<Voice>& test_voices() {
  static const std::vector<Voice> voices = {
      {"en-gb-scotland+m7", 165, 40}, {"en-029+f3", 150, 65}, {"en-gb-x-rp+m2", 180, 50}};
  return voices;
}

}  // namespace chorus::cli
