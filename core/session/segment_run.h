// The segmentation a SegmentSettings asks for on one input, with its ground truth and IoU when
// the user opened one: shared by the workbench's segmentation view (in a job), `fovea export
// --view segment` and the tests, so every route computes the same thing.
//
//     SegmentOutcome outcome = runSegmentation(model, input, session.segment, inputPath, progress);
//     cv::Mat1i labels = outcome.result.labels;     // patch grid (or map resolution)
//     if (outcome.hasGroundTruth()) std::cout << outcome.iou;
#pragma once

#include "core/model/model.h"
#include "core/segment/segmenter.h"
#include "core/session/segment_settings.h"
#include "core/util/progress.h"

#include <opencv2/core/mat.hpp>

#include <string>

namespace fovea {

struct SegmentOutcome {
    Segmentation result;
    cv::Mat1i groundTruth;  // labels at input.view's size; empty when none was opened
    double iou = 0.0;       // foreground IoU against the ground truth (groundTruthIoU)
    std::string title;      // "TokenCut normalized cut, layer 5"

    bool hasGroundTruth() const { return !groundTruth.empty(); }
};

// Runs the forward pass or explanation the method needs, then the method. Throws fovea::Error
// for an unknown method, a bad parameter or unreadable ground truth (naming the file), and
// fovea::Cancelled when `progress` says so.
SegmentOutcome runSegmentation(Model& model, const ImageInput& input, const SegmentSettings& settings,
                               const std::string& inputPath, Progress& progress);

}  // namespace fovea
