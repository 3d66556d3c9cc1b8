// From captured attention and a view's settings to the map and figure options a view draws:
// shared by the GUI, `fovea export` and the tests, so every route draws the same picture.
#pragma once

#include "core/explain/attention_maps.h"
#include "core/explain/explainer.h"
#include "core/session/session.h"

#include <opencv2/core/mat.hpp>

namespace fovea {

AttentionMapOptions mapOptions(const ViewSettings& view);

// Whether the view's method needs attention gradients in the capture.
bool viewNeedsGradients(const ViewSettings& view);

// The map of the view (CV_32F, patch grid), before range and threshold: raw and rollout with
// any head fusion, other methods from the explainer registry.
cv::Mat computeViewMap(const AttentionStack& stack, const ViewSettings& view);
// Whether the view's map comes from captured attention alone (else it runs the model).
bool viewUsesAttention(const ViewSettings& view);
// The parameters the view gives its method: the view's layer, heads, query and discard ratio
// where the method has them, then view.params (names the method lacks are ignored), resolved
// against the method's defaults and ranges.
ExplainParams viewParams(const Explainer& method, const ViewSettings& view);
// Any method's map for one input: from `outputs` when it holds what the method needs (attention,
// and gradients for gradient methods), else by running the model (progress may cancel).
// `target`: the class explained, -1 for the top-1. Returns the map and the method's notes.
struct ViewMap {
    cv::Mat map;
    std::vector<std::pair<std::string, double>> notes;
};
ViewMap computeViewMap(Model& model, const ImageInput& input, const ModelOutputs* outputs, const ViewSettings& view,
                       int target = -1, Progress* progress = nullptr);
// One view per registered method that works on this model (attention methods only when it has
// attention), with `base`'s display settings.
std::vector<ViewSettings> allMethodViews(const ViewSettings& base, const ModelSpec& spec);

// The figure options with the colour range resolved (auto, fixed, or [min, percentile]).
FigureOptions resolvedFigure(const cv::Mat& map, const ViewSettings& view);

// Cells below the threshold (a fraction of the resolved range) become NaN (drawn as masked).
cv::Mat thresholdedMap(const cv::Mat& map, const ViewSettings& view, const FigureOptions& resolved);

// Value at percentile p (0 < p <= 100, nearest rank) of the finite values; NaN when none.
float percentileOf(const cv::Mat& values, float p);

}  // namespace fovea
