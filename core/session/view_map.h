// From captured attention and a view's settings to the map and figure options a view draws:
// shared by the GUI, `fovea export` and the tests, so every route draws the same picture.
#pragma once

#include "core/explain/attention_maps.h"
#include "core/session/session.h"

#include <opencv2/core/mat.hpp>

namespace fovea {

AttentionMapOptions mapOptions(const ViewSettings& view);

// Whether the view's method needs attention gradients in the capture.
bool viewNeedsGradients(const ViewSettings& view);

// The map of the view (CV_32F, patch grid), before range and threshold: raw and rollout with
// any head fusion, other methods from the explainer registry.
cv::Mat computeViewMap(const AttentionStack& stack, const ViewSettings& view);

// The figure options with the colour range resolved (auto, fixed, or [min, percentile]).
FigureOptions resolvedFigure(const cv::Mat& map, const ViewSettings& view);

// Cells below the threshold (a fraction of the resolved range) become NaN (drawn as masked).
cv::Mat thresholdedMap(const cv::Mat& map, const ViewSettings& view, const FigureOptions& resolved);

// Value at percentile p (0 < p <= 100, nearest rank) of the finite values; NaN when none.
float percentileOf(const cv::Mat& values, float p);

}  // namespace fovea
