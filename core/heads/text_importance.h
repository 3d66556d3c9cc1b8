// Head importance of a causal language model by pruning, the text counterpart of
// core/heads/importance.h: switch one head off at a time (Model::setHeadScales, Michel et al.'s
// head mask xi_h = 0) and measure what next-token prediction loses over a set of token sequences.
//
//     std::vector<TextImportanceSample> samples = {{textInputFromIds(ids, spec), {12, 13, 14}}};
//     HeadImportanceReport report =
//         computeTextHeadImportance(*model, samples, ImportanceOrder::Accuracy, progress);
//
// Per head h over the scored positions t of every sample (the target is the token that follows,
// ids[t + 1]), p the model's next-token distribution at t and p^{-h} the one with h off:
//   accuracy delta    = acc(p^{-h}) - acc(p)          (top-1 equals ids[t + 1])
//   confidence delta  = mean_t p^{-h}(ids[t+1]) - p(ids[t+1])
//   KL                = mean_t KL(p || p^{-h})
// Every masked pass runs the whole model (language demo models are small); the gradient proxy
// is not computed (0). The model's head scales are restored afterwards; a head the model had
// already switched off stays off in every pass.
//
// Supported: models with next-token logits at every position (GPT-2, spec.task "causal-lm").
#pragma once

#include "core/heads/importance.h"
#include "core/model/text_input.h"
#include "core/util/progress.h"

#include <vector>

namespace fovea {

struct TextImportanceSample {
    TextInput input;
    // Positions t whose next token ids[t + 1] is scored; empty: every position but the last.
    std::vector<int> scored;
};

// Throws fovea::Error for an empty sample set, a scored position outside 0..size-2, or a model
// without next-token logits; fovea::Cancelled when progress says so.
HeadImportanceReport computeTextHeadImportance(Model& model,
                                               const std::vector<TextImportanceSample>& samples,
                                               ImportanceOrder order, Progress& progress);

}  // namespace fovea
