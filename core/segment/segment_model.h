// Segmentation on a model: the forward pass (or explanation map) a segmentation method needs,
// and `fovea segment eval`: methods scored on generated shapes-in-clutter scenes (the target's
// mask) or on a folder of images with label masks, as mean IoU and CorLoc with 95% confidence
// intervals.
//
//     const Segmenter& method = findSegmenter("tokencut");
//     SegmentInputs inputs = segmentInputsFor(*model, input, method, SegmentRunOptions{});
//     Segmentation result = method.segment(inputs, method.defaults());
//     cv::Mat1i atImage = resizeLabels(result.labels, input.view.size());
//
//     SegmentEvalOptions options;            // 500 scenes; options.methods = {"dino", "lost", ...}
//     std::vector<SegmentEvalRow> rows = evaluateSegmenters(*model, options, progress);
#pragma once

#include "core/data/shapes_scene.h"
#include "core/explain/evaluate.h"
#include "core/explain/explainer.h"
#include "core/model/model.h"
#include "core/segment/segmenter.h"
#include "core/util/progress.h"

#include <functional>
#include <string>
#include <vector>

namespace fovea {

struct SegmentRunOptions {
    int layer = -1;         // layer whose keys / CLS attention are read; -1: the last
    std::string mapMethod;  // explainer for map methods; "": rollout (heatmap), gradcam (cam-mask)
    int classes = 1;        // cam-mask: class maps for the top-N classes
    ExplainParams mapParams;
};

// Runs what `method` reads: one forward capturing the layer's attention and keys, or the
// explanation map(s). groundTruth (image size, optional) is passed through for best-IoU.
SegmentInputs segmentInputsFor(Model& model, const ImageInput& input, const Segmenter& method, const SegmentRunOptions& options,
                               const cv::Mat1b& groundTruth = {});

struct SegmentEvalOptions {
    std::vector<std::string> methods = {"dino", "lost", "tokencut", "spectral", "heatmap", "cam-mask", "kmeans-parts"};
    std::vector<SegmentParams> params;  // per method (empty: defaults)
    int scenes = 500;
    std::uint64_t firstSeed = 1000000000ULL + 500000;  // the same held-out scenes as fovea eval
    SceneOptions scene;
    std::string dataDir, gtDir;  // when set: images in dataDir, label masks <stem>.png in gtDir
    SegmentRunOptions run;
};

struct SegmentEvalRow {
    std::string method;
    MeanCI iou, corLoc;  // per image: foreground IoU (Jaccard), box IoU >= 0.5 as 0/1
    double msPerImage = 0.0;
};

std::vector<SegmentEvalRow> evaluateSegmenters(Model& model, const SegmentEvalOptions& options, Progress& progress,
                                               const std::function<void(const SegmentEvalRow&)>& rowDone = {});
std::string segmentTableCsv(const std::vector<SegmentEvalRow>& rows);
std::string segmentTableMarkdown(const std::vector<SegmentEvalRow>& rows, const std::string& modelName,
                                 const SegmentEvalOptions& options);

}  // namespace fovea
