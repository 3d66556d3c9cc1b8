// The heatmap figure of a view, built the same way for the window, `fovea export` and tests.
#pragma once

#include "core/model/model.h"
#include "core/session/session.h"
#include "widgets/atlas_painter.h"
#include "widgets/heatmap_painter.h"

#include <QString>

namespace fovea {

// "layer 3, mean of heads, query CLS; predicted star"
QString viewTitle(const ModelSpec& spec, const ModelOutputs& outputs, const ViewSettings& view);

// The map of `view` over the image the model saw; the title is view.figure.title as given.
// Throws fovea::Error for settings the capture cannot serve (layer, head or query out of range).
HeatmapPainter buildHeatmapFigure(const ImageInput& input, const ModelOutputs& outputs, const ViewSettings& view);
// The same from a map already computed (model-level methods: see computeViewMap in view_map.h).
HeatmapPainter buildHeatmapFigure(const ImageInput& input, const cv::Mat& map, const ViewSettings& view);

// Every head of every layer for the view's query, coloured with the view's colormap.
AtlasPainter buildAtlasFigure(const ImageInput& input, const ModelOutputs& outputs, const ViewSettings& view,
                              std::optional<AtlasCell> focus = std::nullopt);

}  // namespace fovea
