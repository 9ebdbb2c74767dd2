// Captions and voices of the Fashion-MNIST multimodal set built by `chorus data prepare-fmnist`.
//
// Each image gets one caption from several templates per class ("a photo of a sandal", "a grey
// ankle boot", ...). Spoken captions are one clip per (class, template, voice): a few hundred
// distinct utterances shared by many image lines, so synthesis takes seconds, not hours. Test
// clips use voice variants never heard in training, so speech results measure generalisation
// to new speakers, not memorised waveforms.
#pragma once

#include <string>
#include <vector>

#include "tools/chorus/data_speech.h"

namespace chorus::cli {

struct FmnistClass {
  std::string name;  // the official class name ("T-shirt/top")
  std::string noun;  // how captions say it ("t-shirt")
};
const std::vector<FmnistClass>& fmnist_classes();

// Templates with {a} (the article "a"/"an" that fits the word after it) and {n} (the noun).
const std::vector<std::string>& caption_templates();
std::string caption(int label, int template_index);

const std::vector<Voice>& train_voices();
const std::vector<Voice>& test_voices();

}  // namespace chorus::cli
