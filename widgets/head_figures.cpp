#include "widgets/head_figures.h"

#include "core/heads/attention_sinks.h"
#include "core/heads/head_atlas.h"
#include "core/util/error.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace fovea {
namespace {

// The features the hover card lists, in this order (NaN ones are left out).
constexpr HeadFeature kCardFeatures[] = {
    HeadFeature::Entropy,      HeadFeature::MeanDistance,    HeadFeature::ClsShare,
    HeadFeature::SelfShare,    HeadFeature::PreviousToken,   HeadFeature::Sparsity,
    HeadFeature::RowAlignment, HeadFeature::ColumnAlignment, HeadFeature::SinkShare};

}  // namespace

HeadData headDataFromAtlas(const HeadAtlas& atlas) {
    const HeadFeatureTable& table = atlas.features;
    HeadData data;
    data.embedding = headEmbeddingName(atlas.embedding);
    // Only the labels some head carries go into the legend, in the taxonomy's order.
    std::map<int, int> labelIndex;
    for (const std::vector<HeadLabel>& labels : atlas.labels) {
        for (HeadLabel label : labels) labelIndex[int(label)] = 0;
    }
    for (auto& [label, index] : labelIndex) {
        index = int(data.labels.size());
        const RgbColour colour = headLabelColour(HeadLabel(label));
        data.labels.push_back({headLabelName(HeadLabel(label)),
                               {colour.red, colour.green, colour.blue},
                               headLabelRule(HeadLabel(label))});
    }
    data.clusterNames = atlas.clusterNames;
    for (std::size_t i = 0; i < table.heads.size(); ++i) {
        const HeadSummary& summary = table.heads[i];
        data.layers = std::max(data.layers, summary.layer + 1);
        data.heads = std::max(data.heads, summary.head + 1);
        HeadPoint point;
        point.key = {summary.layer, summary.head};
        if (2 * i + 1 < atlas.embedding2d.size()) {
            point.x = atlas.embedding2d[2 * i];
            point.y = atlas.embedding2d[2 * i + 1];
        }
        for (std::size_t axis = 0; axis < 3 && 3 * i + axis < atlas.embedding3d.size(); ++axis)
            point.xyz[axis] = atlas.embedding3d[3 * i + axis];
        point.cluster = i < atlas.clusters.assignment.size() ? atlas.clusters.assignment[i] : -1;
        if (i < atlas.labels.size()) {
            for (HeadLabel label : atlas.labels[i]) point.labels.push_back(labelIndex[int(label)]);
        }
        for (HeadFeature feature : kCardFeatures) {
            const float value = summary.mean[feature];
            if (std::isfinite(value))
                point.features.emplace_back(headFeatureName(feature), double(value));
        }
        const std::vector<float>& pattern = summary.mean.offsetPattern;
        if (table.offsetRows > 0 && table.offsetCols > 0 &&
            pattern.size() == std::size_t(table.offsetRows) * std::size_t(table.offsetCols)) {
            point.pattern = cv::Mat(table.offsetRows, table.offsetCols, CV_32F,
                                    const_cast<float*>(pattern.data()))
                                .clone();
            // Text patterns are one row: stretch them so the thumbnail is a strip, not a line.
            if (table.offsetRows == 1) {
                cv::Mat strip;
                cv::repeat(point.pattern, 3, 1, strip);
                point.pattern = strip;
            }
        }
        data.points.push_back(std::move(point));
    }
    if (atlas.clusters.k > 1) {
        const bool chosen = atlas.clusters.candidateK.size() > 1;
        data.note = (chosen ? "k = " + std::to_string(atlas.clusters.k) + " by silhouette "
                            : "k = " + std::to_string(atlas.clusters.k) + ", silhouette ");
        char score[16];
        std::snprintf(score, sizeof score, "%.2f", atlas.clusters.silhouette);
        data.note += score;
    }
    return data;
}

SinkTimeline sinkTimelineFrom(const SinkAnalysis& sinks, const TokenLayout& tokens) {
    SinkTimeline timeline;
    timeline.tau = sinks.tau;
    timeline.layers = sinks.layers;
    if (sinks.layers.empty() || sinks.tokens <= 0) return timeline;
    timeline.mass = cv::Mat(int(sinks.layers.size()), sinks.tokens, CV_32F);
    for (int row = 0; row < timeline.mass.rows; ++row) {
        for (int token = 0; token < sinks.tokens; ++token)
            timeline.mass.at<float>(row, token) = sinks.mass(row, token);
    }
    for (int token = 0; token < sinks.tokens; ++token) {
        timeline.tokenLabels.push_back(token < tokens.size() ? tokens[token].label()
                                                             : std::to_string(token));
    }
    for (const SinkToken& sink : sinks.sinks)
        (sink.kind == SinkKind::Primary ? timeline.primary : timeline.secondary)
            .push_back(sink.position);
    return timeline;
}

HeadAnalysis analyseHeads(const AttentionStack& stack, const ModelSpec& spec,
                          const HeadSettings& settings, const std::vector<std::int64_t>& ids) {
    HeadFeatureOptions features;
    features.patchSizePixels = spec.patchSize;
    features.threads = 1;  // the window's worker thread; the GUI thread keeps its core
    HeadAtlasOptions options;
    options.embedding = headEmbeddingFromName(settings.embedding);
    options.clusters.k = settings.clusters;
    HeadAnalysis analysis;
    analysis.data =
        headDataFromAtlas(buildHeadAtlas(computeHeadFeatures(stack, features, ids), options));
    analysis.sinks = sinkTimelineFrom(analyzeAttentionSinks(stack), stack.tokens);
    return analysis;
}

HeadScales headScalesOf(const HeadSettings& settings, int layers, int heads) {
    if (!settings.intervened()) return {};
    HeadScales scales = HeadScales::identity(layers, heads);
    for (const HeadScaleEntry& entry : settings.scales) {
        if (entry.layer >= layers || entry.head >= heads) {
            throw Error("head intervention",
                        "layer " + std::to_string(entry.layer) + ", head " +
                            std::to_string(entry.head) + " is outside this model's " +
                            std::to_string(layers) + " x " + std::to_string(heads) + " heads");
        }
        scales.set(entry.layer, entry.head, entry.scale);
    }
    return scales;
}

HeadScaleMap headScaleMapOf(const HeadSettings& settings) {
    HeadScaleMap scales;
    for (const HeadScaleEntry& entry : settings.scales)
        scales[{entry.layer, entry.head}] = entry.scale;
    return scales;
}

cv::Mat withoutTokens(const cv::Mat& map, const TokenLayout& tokens,
                      const std::vector<int>& positions) {
    if (map.type() != CV_32F) throw Error("exclude sink tokens", "expected a CV_32F map");
    cv::Mat result = map.clone();
    for (int position : positions) {
        if (position < 0 || position >= tokens.size()) continue;
        const TokenInfo& token = tokens[position];
        if (token.kind != TokenKind::Patch || token.row < 0 || token.row >= result.rows ||
            token.col < 0 || token.col >= result.cols)
            continue;
        result.at<float>(token.row, token.col) = std::nanf("");
    }
    double sum = 0.0;
    for (int y = 0; y < result.rows; ++y) {
        for (int x = 0; x < result.cols; ++x) {
            const float v = result.at<float>(y, x);
            if (std::isfinite(v)) sum += v;
        }
    }
    if (sum > 0.0) {
        for (int y = 0; y < result.rows; ++y) {
            for (int x = 0; x < result.cols; ++x) {
                float& v = result.at<float>(y, x);
                if (std::isfinite(v)) v = float(v / sum);
            }
        }
    }
    return result;
}

cv::Mat withoutSinkTokens(const cv::Mat& map, const AttentionStack& stack,
                          const ViewSettings& view) {
    const int layer =
        view.method == "raw" ? (view.layer < 0 ? stack.modelLayers - 1 : view.layer) : -1;
    return withoutTokens(map, stack.tokens,
                         sinkPositionsToExclude(analyzeAttentionSinks(stack), layer));
}

}  // namespace fovea
