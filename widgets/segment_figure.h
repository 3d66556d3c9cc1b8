// The segmentation figure of a session's settings, built the same way for the workbench (in a
// job), `fovea export --view segment` and the tests.
//
//     SegmentOutcome outcome = runSegmentation(model, input, settings, path, progress);
//     SegmentPainter figure = buildSegmentFigure(input, outcome, settings);
//     figure.setStyle(segmentStyle(settings, outcome));   // after a display-only change
#pragma once

#include "core/model/model.h"
#include "core/session/segment_run.h"
#include "widgets/segment_painter.h"

namespace fovea {

SegmentStyle segmentStyle(const SegmentSettings& settings, const SegmentOutcome& outcome);
SegmentPainter buildSegmentFigure(const ImageInput& input, const SegmentOutcome& outcome,
                                  const SegmentSettings& settings);

}  // namespace fovea
