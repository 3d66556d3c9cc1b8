#include "core/explain/attention_maps.h"

#include "core/util/error.h"

#include <algorithm>
#include <functional>
#include <cmath>
#include <numeric>

namespace fovea {

HeadSelection HeadSelection::parse(const std::string& text) {
    HeadSelection selection;
    if (text == "mean") return selection;
    if (text == "max") {
        selection.fusion = HeadFusion::Max;
        return selection;
    }
    if (text == "min") {
        selection.fusion = HeadFusion::Min;
        return selection;
    }
    std::size_t used = 0;
    int head = -1;
    try {
        head = std::stoi(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || head < 0) {
        throw Error("head '" + text + "' is not mean, max, min or a head index");
    }
    selection.fusion = HeadFusion::Single;
    selection.head = head;
    return selection;
}

std::string HeadSelection::toString() const {
    switch (fusion) {
        case HeadFusion::Mean: return "mean";
        case HeadFusion::Max: return "max";
        case HeadFusion::Min: return "min";
        case HeadFusion::Single: return std::to_string(head);
    }
    return "?";
}

std::vector<float> fuseHeads(const AttentionLayer& layer, const HeadSelection& selection) {
    if (selection.fusion == HeadFusion::Single) {
        const int slot = layer.headSlot(selection.head);
        if (slot < 0) {
            throw Error("head " + std::to_string(selection.head) + " of layer " + std::to_string(layer.layer) +
                        " was not captured");
        }
        return layer.matrix(slot);
    }
    if (layer.heads.empty()) throw Error("layer " + std::to_string(layer.layer) + " has no captured heads");
    std::vector<float> fused = layer.matrix(0);
    for (int slot = 1; slot < int(layer.heads.size()); ++slot) {
        const std::vector<float> head = layer.matrix(slot);
        for (std::size_t i = 0; i < fused.size(); ++i) {
            switch (selection.fusion) {
                case HeadFusion::Mean: fused[i] += head[i]; break;
                case HeadFusion::Max: fused[i] = std::max(fused[i], head[i]); break;
                case HeadFusion::Min: fused[i] = std::min(fused[i], head[i]); break;
                case HeadFusion::Single: break;
            }
        }
    }
    if (selection.fusion == HeadFusion::Mean) {
        const float scale = 1.0f / float(layer.heads.size());
        for (float& v : fused) v *= scale;
    }
    return fused;
}

cv::Mat patchGridFromRow(const TokenLayout& tokens, const float* row) {
    cv::Mat grid(tokens.gridRows(), tokens.gridCols(), CV_32F);
    for (int r = 0; r < tokens.gridRows(); ++r) {
        for (int c = 0; c < tokens.gridCols(); ++c) grid.at<float>(r, c) = row[tokens.patchIndex(r, c)];
    }
    return grid;
}

namespace {

void checkQuery(const AttentionStack& stack, int query) {
    if (query < 0 || query >= stack.tokens.size()) {
        throw Error("query token " + std::to_string(query) + " does not exist: the sequence has " +
                    std::to_string(stack.tokens.size()) + " tokens");
    }
}

}  // namespace

cv::Mat rawAttentionMap(const AttentionStack& stack, int layer, const HeadSelection& selection, int query) {
    checkQuery(stack, query);
    const std::vector<float> fused = fuseHeads(stack.layer(layer), selection);
    return patchGridFromRow(stack.tokens, fused.data() + std::size_t(query) * std::size_t(stack.tokens.size()));
}

std::vector<double> residualAttention(const std::vector<float>& fused, int tokens) {
    const std::size_t n = std::size_t(tokens);
    if (fused.size() != n * n) {
        throw Error("attention matrix has " + std::to_string(fused.size()) + " values, expected " +
                    std::to_string(n * n));
    }
    std::vector<double> step(n * n);
    for (std::size_t row = 0; row < n; ++row) {
        double sum = 0.0;
        for (std::size_t col = 0; col < n; ++col) {
            const double v = 0.5 * double(fused[row * n + col]) + (row == col ? 0.5 : 0.0);
            step[row * n + col] = v;
            sum += v;
        }
        for (std::size_t col = 0; col < n; ++col) step[row * n + col] /= sum;
    }
    return step;
}

std::vector<float> rolloutOf(const AttentionStack& stack, const std::function<std::vector<float>(const AttentionLayer&)>& fuse,
                             float discardRatio) {
    if (discardRatio < 0.0f || discardRatio >= 1.0f) {
        throw Error("discard ratio " + std::to_string(discardRatio) + " must be in [0, 1)");
    }
    const int n = stack.tokens.size();
    const int cls = stack.tokens.firstOf(TokenKind::Cls);
    std::vector<double> rollout(std::size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i) rollout[std::size_t(i) * n + i] = 1.0;
    std::vector<double> next(rollout.size());
    for (int layer = 0; layer < stack.modelLayers; ++layer) {
        std::vector<float> fused = fuse(stack.layer(layer));
        if (discardRatio > 0.0f) {
            // Zero the smallest weights (ties broken by position), sparing the CLS column.
            std::vector<std::size_t> order;
            order.reserve(fused.size());
            for (std::size_t i = 0; i < fused.size(); ++i) {
                if (cls < 0 || int(i % std::size_t(n)) != cls) order.push_back(i);
            }
            const std::size_t discard = std::size_t(double(fused.size()) * discardRatio);
            const std::size_t count = std::min(discard, order.size());
            std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(count), order.end(),
                              [&](std::size_t a, std::size_t b) {
                                  return fused[a] < fused[b] || (fused[a] == fused[b] && a < b);
                              });
            for (std::size_t i = 0; i < count; ++i) fused[order[i]] = 0.0f;
        }
        const std::vector<double> step = residualAttention(fused, n);
        // rollout <- step * rollout (later layers multiply from the left).
        std::fill(next.begin(), next.end(), 0.0);
        for (int row = 0; row < n; ++row) {
            double* out = &next[std::size_t(row) * n];
            for (int k = 0; k < n; ++k) {
                const double a = step[std::size_t(row) * n + k];
                if (a == 0.0) continue;
                const double* in = &rollout[std::size_t(k) * n];
                for (int col = 0; col < n; ++col) out[col] += a * in[col];
            }
        }
        rollout.swap(next);
    }
    return std::vector<float>(rollout.begin(), rollout.end());
}

std::vector<float> rolloutMatrix(const AttentionStack& stack, const HeadSelection& selection, float discardRatio) {
    return rolloutOf(stack, [&selection](const AttentionLayer& layer) { return fuseHeads(layer, selection); }, discardRatio);
}

cv::Mat rolloutMap(const AttentionStack& stack, const HeadSelection& selection, float discardRatio, int query) {
    checkQuery(stack, query);
    const std::vector<float> rollout = rolloutMatrix(stack, selection, discardRatio);
    return patchGridFromRow(stack.tokens, rollout.data() + std::size_t(query) * std::size_t(stack.tokens.size()));
}

const std::vector<std::string>& attentionMapMethods() {
    static const std::vector<std::string> methods = {"raw", "rollout"};
    return methods;
}

CaptureRequest captureForMap(const AttentionMapOptions& options, int modelLayers) {
    CaptureRequest request;
    if (options.method == "raw") {
        const int layer = options.layer < 0 ? modelLayers - 1 : options.layer;
        request.layers = {layer};
        if (options.heads.fusion == HeadFusion::Single) request.heads = {options.heads.head};
    } else if (options.method != "rollout") {
        throw Error("method '" + options.method + "' is not one of raw, rollout");
    } else if (options.heads.fusion == HeadFusion::Single) {
        request.heads = {options.heads.head};
    }
    return request;
}

cv::Mat attentionMap(const AttentionStack& stack, const AttentionMapOptions& options) {
    int query = options.query;
    if (query < 0) query = std::max(0, stack.tokens.firstOf(TokenKind::Cls));
    if (options.method == "raw") {
        const int layer = options.layer < 0 ? stack.modelLayers - 1 : options.layer;
        return rawAttentionMap(stack, layer, options.heads, query);
    }
    if (options.method == "rollout") return rolloutMap(stack, options.heads, options.discardRatio, query);
    throw Error("method '" + options.method + "' is not one of raw, rollout");
}

}  // namespace fovea
