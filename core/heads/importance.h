// Head importance by pruning: switch one attention head off at a time and measure what the
// model loses over a set of labelled images (Michel et al., "Are Sixteen Heads Really Better
// than One?", NeurIPS 2019; Li et al., "How Does Attention Work in Vision Transformers? A Visual
// Analytics Attempt", TVCG 2023), plus Michel et al.'s gradient proxy.
//
//     std::vector<ImportanceSample> samples = ...;               // images with their true class
//     HeadImportanceReport report = computeHeadImportance(*model, samples, {}, progress);
//     for (int i : report.ranking()) report.heads[i] ...         // most important first
//     MaskComparison c = compareMasking(*model, samples, report, /*k*/ 3, {}, progress);
//
// Per head h (layer l) over N inputs x_i with label y_i, p the model's output distribution and
// p^{-h} the one with h's output multiplied by 0 (Michel et al. eq. 2, the head mask xi_h = 0):
//   accuracy delta    = acc(p^{-h}) - acc(p)                     (negative: the head helps)
//   confidence delta  = mean_i p^{-h}(y_i | x_i) - p(y_i | x_i)
//   KL                = mean_i KL(p(. | x_i) || p^{-h}(. | x_i))
//   gradient proxy    = mean_i |dL(x_i) / d xi_h| at xi = 1, L the cross-entropy (Michel et al.
//                       eq. 3; equal to |sum_t O_h(x)^T dL/dO_h(x)| over the head's outputs O_h)
// Without a label, an input's label is the unmasked model's prediction (accuracy is then 1).
// The masked passes restart at the head's layer from the cached tokens entering it, so the
// blocks below it run once per input, not once per head. Masks add to the model's current head
// scales (a head already switched off stays off in every pass).
//
// Supported: ViT-family classifiers (VitModel). Other models throw fovea::Error.
#pragma once

#include "core/model/model.h"
#include "core/util/progress.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fovea {

struct ImportanceSample {
    ImageInput image;
    int label = -1;  // the true class; -1: the unmasked model's prediction
};

enum class ImportanceOrder { Accuracy, Confidence, KlDivergence, GradientProxy };
// "accuracy", "confidence", "kl", "gradient"; throws fovea::Error for other names.
ImportanceOrder importanceOrderFromName(const std::string& name);
const char* importanceOrderName(ImportanceOrder order);

struct HeadImportanceOptions {
    int batchSize = 16;         // inputs per pass
    bool gradientProxy = true;  // one forward + backward per input
    ImportanceOrder order = ImportanceOrder::Accuracy;
};

struct HeadImportance {
    int layer = 0, head = 0;
    double maskedAccuracy = 0.0;
    double accuracyDelta = 0.0;
    double confidenceDelta = 0.0;
    double klDivergence = 0.0;
    double gradientProxy = 0.0;  // 0 when not computed
    int rank = 0;                // 1 = most important under the report's order
};

struct HeadImportanceReport {
    int layers = 0, headsPerLayer = 0, inputs = 0;
    int labelledInputs = 0;  // inputs that came with a true label
    double baseAccuracy = 0.0, baseConfidence = 0.0;
    ImportanceOrder order = ImportanceOrder::Accuracy;
    std::vector<HeadImportance> heads;  // layer-major: heads[layer * headsPerLayer + head]
    // Wall-clock seconds: unmasked passes that fill the cache, all masked passes, the gradient
    // proxy.
    double cacheSeconds = 0.0, maskingSeconds = 0.0, gradientSeconds = 0.0;
    // Blocks the masked passes ran, and what recomputing every pass from the input would have run.
    std::int64_t blocksRun = 0, blocksWithoutCache = 0;

    // Indices into heads, most important first (rank order).
    std::vector<int> ranking() const;
};

// Throws fovea::Error for an empty sample set, inputs of different sizes, a label outside the
// model's classes, or a model that is not a ViT classifier; fovea::Cancelled when progress says so.
HeadImportanceReport computeHeadImportance(Model& model,
                                           const std::vector<ImportanceSample>& samples,
                                           const HeadImportanceOptions& options,
                                           Progress& progress);

// Sets each head's rank (1 = most important) under report.order; ties keep layer-major order.
void rankHeads(HeadImportanceReport& report);

// The logits [inputs][classes] with heads scaled as `scales` says, computed the way
// computeHeadImportance does: the unmasked model runs to `layer`, the tokens entering block
// `layer` are kept, and the pass restarts there with the scales. `scales` must change no head
// below `layer`. For checks against a full pass with model.setHeadScales.
std::vector<std::vector<float>> logitsFromCachedLayer(Model& model,
                                                      const std::vector<ImportanceSample>& samples,
                                                      int layer, const HeadScales& scales);

struct MaskComparisonOptions {
    int randomDraws = 10;
    std::uint64_t seed = 1;
    int batchSize = 16;
};

struct MaskComparison {
    int count = 0;  // K heads masked together
    double baseAccuracy = 0.0;
    double topAccuracy = 0.0;  // the K highest-ranked heads off
    std::vector<std::pair<int, int>> topHeads;
    std::vector<double> randomAccuracies;  // one per draw of K distinct heads, uniformly at random
    double randomMean = 0.0, randomStd = 0.0, randomMin = 0.0, randomMax = 0.0;
};

// Masks the report's top-K heads together, then K random heads (several draws), and measures the
// accuracy of each. Labels as in computeHeadImportance.
MaskComparison compareMasking(Model& model, const std::vector<ImportanceSample>& samples,
                              const HeadImportanceReport& report, int count,
                              const MaskComparisonOptions& options, Progress& progress);

// One row per head in rank order:
// layer,head,rank,masked_accuracy,delta_accuracy,delta_confidence,kl,gradient_proxy.
std::string headImportanceCsv(const HeadImportanceReport& report);
// A Markdown table of the first `rows` heads in rank order.
std::string headImportanceMarkdown(const HeadImportanceReport& report, int rows);

}  // namespace fovea
