// Head importance for the atlas's importance colouring: pruning importance over the open images
// (core/heads/importance.h, Michel et al. 2019; Li et al. 2023) reduced to one value per head,
// the KL divergence of the output distribution when the head is switched off.
//
//     HeadImportanceValues kl = imageImportance(*model, state.inputs, progress);
//     applyImportance(data, kl);        // HeadPoint::importance, HeadData::importanceName
#pragma once

#include "core/util/progress.h"
#include "widgets/head_data.h"

#include <string>
#include <utility>
#include <vector>

namespace fovea {

class Model;

struct HeadImportanceValues {
    std::string name;  // what the values measure, e.g. "KL when switched off (3 inputs)"
    std::vector<std::pair<HeadKey, double>> values;
};

// At most kImportanceInputs images (the first ones), each labelled with the unmasked model's
// prediction. Throws fovea::Error for no inputs or a model the importance does not support (only
// ViT classifiers); fovea::Cancelled when progress says so.
constexpr int kImportanceInputs = 32;
HeadImportanceValues imageImportance(Model& model, const std::vector<std::string>& inputs,
                                     Progress& progress);

void applyImportance(HeadData& data, const HeadImportanceValues& importance);

}  // namespace fovea
