#include "core/session/view_map.h"

#include "core/explain/explainer.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace fovea {

AttentionMapOptions mapOptions(const ViewSettings& view) {
    AttentionMapOptions options;
    options.method = view.method;
    options.layer = view.layer;
    options.heads = HeadSelection::parse(view.heads);
    options.query = view.query;
    options.discardRatio = view.discardRatio;
    return options;
}

bool viewNeedsGradients(const ViewSettings& view) {
    if (view.method == "raw" || view.method == "rollout") return false;
    return findExplainer(view.method).needsGradients();
}

bool viewUsesAttention(const ViewSettings& view) {
    if (view.method == "raw" || view.method == "rollout") return true;
    return findExplainer(view.method).usesAttention();
}

ExplainParams viewParams(const Explainer& method, const ViewSettings& view) {
    ExplainParams given;
    for (const ExplainerParam& p : method.parameters()) {
        const auto set = view.params.find(p.name);
        if (set != view.params.end()) given[p.name] = set->second;
        if (p.name == "query") given["query"] = view.query;
        if (p.name == "discard") given["discard"] = view.discardRatio;
        if (p.name == "layer") given["layer"] = view.layer;
        if (p.name == "head") {
            const HeadSelection heads = HeadSelection::parse(view.heads);
            given["head"] = heads.fusion == HeadFusion::Single ? heads.head : -1;
        }
    }
    return method.resolve(given);
}

cv::Mat computeViewMap(const AttentionStack& stack, const ViewSettings& view) {
    if (view.method == "raw" || view.method == "rollout") return attentionMap(stack, mapOptions(view));
    // Other methods through the registry, with the view's query, discard ratio and single head.
    const Explainer& method = findExplainer(view.method);
    return method.compute(stack, viewParams(method, view));
}

ViewMap computeViewMap(Model& model, const ImageInput& input, const ModelOutputs* outputs, const ViewSettings& view, int target,
                       Progress* progress) {
    ViewMap result;
    if (outputs && viewUsesAttention(view) && !outputs->attention.empty() &&
        (!viewNeedsGradients(view) || outputs->attention.hasGradients()) && target < 0) {
        result.map = computeViewMap(outputs->attention, view);
        return result;
    }
    if (view.method == "raw" || view.method == "rollout") {
        // Head fusions max/min are the view's business: run the capture and use the view's path.
        if (model.spec().depth <= 0) throw Error("method " + view.method, "needs attention, and " + model.spec().architecture + " has none");
        const ModelOutputs ran = model.run(input, CaptureRequest());
        result.map = computeViewMap(ran.attention, view);
        return result;
    }
    const Explainer& method = findExplainer(view.method);
    ExplainContext context(model, input, target, progress);
    result.map = method.explain(context, viewParams(method, view));
    result.notes = context.notes();
    return result;
}

std::vector<ViewSettings> allMethodViews(const ViewSettings& base, const ModelSpec& spec) {
    std::vector<ViewSettings> views;
    for (const Explainer* method : explainers()) {
        if (method->usesAttention() && spec.depth <= 0) continue;
        ViewSettings view = base;
        view.method = method->name();
        view.layer = -1;  // each method's own default layer
        view.figure.title.clear();
        views.push_back(view);
    }
    return views;
}

float percentileOf(const cv::Mat& values, float p) {
    std::vector<float> finite;
    for (int row = 0; row < values.rows; ++row) {
        const float* value = values.ptr<float>(row);
        for (int col = 0; col < values.cols; ++col) {
            if (std::isfinite(value[col])) finite.push_back(value[col]);
        }
    }
    if (finite.empty()) return std::numeric_limits<float>::quiet_NaN();
    // Nearest rank: the smallest value with at least p% of the values at or below it.
    const auto rank = std::size_t(std::max(1.0, std::ceil(double(p) / 100.0 * double(finite.size()))));
    std::nth_element(finite.begin(), finite.begin() + std::ptrdiff_t(rank - 1), finite.end());
    return finite[rank - 1];
}

FigureOptions resolvedFigure(const cv::Mat& map, const ViewSettings& view) {
    FigureOptions figure = view.figure;
    if (view.rangeMode == "fixed") {
        figure.autoRange = false;
        if (!(figure.low < figure.high)) throw Error("view range", "fixed range needs low < high");
    } else if (view.rangeMode == "percentile") {
        const ValueRange full = heatmapRange(map, FigureOptions{});
        const float high = percentileOf(map, view.percentile);
        figure.autoRange = false;
        figure.low = full.low;
        figure.high = std::isfinite(high) && high > full.low ? high : full.high;
    } else {
        figure.autoRange = true;
    }
    return figure;
}

cv::Mat thresholdedMap(const cv::Mat& map, const ViewSettings& view, const FigureOptions& resolved) {
    if (view.threshold < 0.0f) return map;
    const ValueRange range = heatmapRange(map, resolved);
    const float cut = range.low + view.threshold * (range.high - range.low);
    cv::Mat result = map.clone();
    for (int row = 0; row < result.rows; ++row) {
        float* value = result.ptr<float>(row);
        for (int col = 0; col < result.cols; ++col) {
            if (value[col] < cut) value[col] = std::numeric_limits<float>::quiet_NaN();
        }
    }
    return result;
}

}  // namespace fovea
