#include "core/session/segment_run.h"

#include "core/segment/ground_truth.h"
#include "core/segment/segment_model.h"

namespace fovea {

SegmentOutcome runSegmentation(Model& model, const ImageInput& input, const SegmentSettings& settings,
                               const std::string& inputPath, Progress& progress) {
    const Segmenter& method = findSegmenter(settings.method);
    const SegmentParams params = settings.resolvedParams();
    SegmentOutcome outcome;
    const std::string truthPath = settings.groundTruthFor(inputPath);
    if (!truthPath.empty()) {
        outcome.groundTruth = readGroundTruth(truthPath, inputPath, model.spec(), input.view.size());
    }
    if (!progress.update(0.1, "segmentation")) throw Cancelled();

    SegmentRunOptions options;
    options.layer = settings.layer;
    options.mapMethod = settings.mapMethod;
    const cv::Mat1b truth = outcome.hasGroundTruth() ? groundTruthForeground(outcome.groundTruth) : cv::Mat1b();
    const SegmentInputs inputs = segmentInputsFor(model, input, method, options, truth);
    if (!progress.update(0.8, "segmentation")) throw Cancelled();
    outcome.result = method.segment(inputs, params);
    if (outcome.hasGroundTruth()) outcome.iou = groundTruthIoU(outcome.result.labels, outcome.groundTruth);

    outcome.title = method.title();
    if (method.needs() == SegmentNeeds::Attention || method.needs() == SegmentNeeds::Keys) {
        const int layer = settings.layer < 0 ? model.spec().depth - 1 : settings.layer;
        outcome.title += ", layer " + std::to_string(layer);
    } else if (!settings.mapMethod.empty()) {
        outcome.title += " of " + settings.mapMethod;
    }
    progress.update(1.0, "segmentation");
    return outcome;
}

}  // namespace fovea
