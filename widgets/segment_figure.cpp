#include "widgets/segment_figure.h"

#include "widgets/qt_convert.h"

namespace fovea {

SegmentStyle segmentStyle(const SegmentSettings& settings, const SegmentOutcome& outcome) {
    SegmentStyle style;
    style.opacity = settings.opacity;
    style.contours = settings.contours;
    style.boxes = settings.boxes;
    style.groundTruth = settings.showGroundTruth;
    style.hidden = settings.hidden;
    style.title = QString::fromStdString(outcome.title);
    return style;
}

SegmentPainter buildSegmentFigure(const ImageInput& input, const SegmentOutcome& outcome,
                                  const SegmentSettings& settings) {
    SegmentPainter figure;
    figure.setImage(toQImage(input.view));
    figure.setSegmentation(outcome.result.labels, outcome.result.count, outcome.result.boxes);
    figure.setGroundTruth(outcome.groundTruth);
    if (outcome.hasGroundTruth()) figure.setIoU(outcome.iou);
    figure.setStyle(segmentStyle(settings, outcome));
    return figure;
}

}  // namespace fovea
