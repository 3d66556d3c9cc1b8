// From the head analytics of core/heads (features, taxonomy, clusters, sinks, importance) to the
// plain values the head views draw (widgets/head_data.h), the same way for the window,
// `fovea export` and the tests; and the two ways the views act back on the model and the maps:
// head scales from the session's intervention, and heatmaps without the sink tokens.
//
//     HeadAnalysis analysis = analyseHeads(outputs.attention, model.spec(), state.heads);
//     atlasView->setHeadData(analysis.data);
//     page->setTimeline(analysis.sinks);
//     model.setHeadScales(headScalesOf(state.heads, spec.depth, spec.numHeads));
#pragma once

#include "core/model/model.h"
#include "core/session/head_settings.h"
#include "core/session/session.h"
#include "widgets/head_data.h"

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

namespace fovea {

struct HeadAtlas;
struct SinkAnalysis;

struct HeadAnalysis {
    HeadData data;
    SinkTimeline sinks;
};

// Features, labels, clusters (k from settings.clusters, 0: by silhouette) and the embedding
// (settings.embedding) of every captured head of `stack`, and its attention sinks (tau 0.2).
// `ids`: a text run's token ids, which the duplicate-token and induction features (and labels)
// need; empty for images. Throws fovea::Error when the stack holds no complete layer.
HeadAnalysis analyseHeads(const AttentionStack& stack, const ModelSpec& spec,
                          const HeadSettings& settings, const std::vector<std::int64_t>& ids = {});

// Adapters from the core's results.
HeadData headDataFromAtlas(const HeadAtlas& atlas);
SinkTimeline sinkTimelineFrom(const SinkAnalysis& sinks, const TokenLayout& tokens);

// The session's intervention as the model takes it (empty when nothing is intervened).
HeadScales headScalesOf(const HeadSettings& settings, int layers, int heads);
HeadScaleMap headScaleMapOf(const HeadSettings& settings);

// A patch-grid map with the cells of `positions` (sequence positions; non-patch tokens are not
// in the map) masked as NaN and the others renormalised to sum 1: the query's attention among
// the remaining patches. A map whose remaining cells sum to 0 is returned masked, not divided.
cv::Mat withoutTokens(const cv::Mat& map, const TokenLayout& tokens,
                      const std::vector<int>& positions);
// The same with the attention sinks of the view's layer (raw attention) or of any layer
// (methods across layers) as the positions.
cv::Mat withoutSinkTokens(const cv::Mat& map, const AttentionStack& stack,
                          const ViewSettings& view);

}  // namespace fovea
