#include "core/heads/attention_sinks.h"

#include "core/heads/attention_rows.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace fovea {

const char* sinkKindName(SinkKind kind) { return kind == SinkKind::Primary ? "primary" : "secondary"; }

SinkAnalysis analyzeAttentionSinks(const AttentionStack& stack, const SinkOptions& options) {
    if (!(options.tau > 0.0 && options.tau < 1.0)) throw Error("attention sinks: tau must be in (0, 1), not " + std::to_string(options.tau));
    SinkAnalysis out;
    out.tau = options.tau;
    out.tokens = stack.tokens.size();
    const int n = out.tokens;
    const heads_detail::MaskView mask(stack);
    const int layers = int(stack.layers.size());
    out.massMatrix.assign(std::size_t(layers) * std::size_t(n), 0.0f);
    heads_detail::parallelFor(layers, 0, [&](int l, int) {
        const AttentionLayer& layer = stack.layers[std::size_t(l)];
        std::vector<float> row(static_cast<std::size_t>(n));
        std::vector<double> mass(static_cast<std::size_t>(n), 0.0);
        int rows = 0;
        for (std::size_t slot = 0; slot < layer.heads.size(); ++slot) {
            for (int q = 0; q < n; ++q) {
                if (!mask.validQuery(q)) continue;
                if (heads_detail::readRow(layer, int(slot), q, mask, row.data()) <= 0.0f) continue;
                ++rows;
                for (int k = 0; k < mask.keyEnd(q); ++k) mass[std::size_t(k)] += row[std::size_t(k)];
            }
        }
        for (int k = 0; k < n; ++k) out.massMatrix[std::size_t(l) * std::size_t(n) + std::size_t(k)] = rows > 0 ? float(mass[std::size_t(k)] / rows) : 0.0f;
    });
    for (int l = 0; l < layers; ++l) {
        out.layers.push_back(stack.layers[std::size_t(l)].layer);
        std::vector<int> sinks;
        for (int k = 0; k < n; ++k) {
            if (out.mass(l, k) > options.tau) sinks.push_back(k);
        }
        out.sinksByLayer.push_back(std::move(sinks));
    }
    // Life of each sink across the captured layers.
    const int earlyLimit = std::max(1, int(std::ceil(options.earlyLayerShare * layers)));  // first third, at least one
    for (int k = 0; k < n; ++k) {
        int count = 0, first = -1, last = -1, peakIndex = 0;
        float peak = 0.0f;
        for (int l = 0; l < layers; ++l) {
            if (out.mass(l, k) > peak) {
                peak = out.mass(l, k);
                peakIndex = l;
            }
            if (out.mass(l, k) <= options.tau) continue;
            ++count;
            if (first < 0) first = l;
            last = l;
        }
        if (count == 0) continue;
        SinkToken sink;
        sink.position = k;
        sink.label = stack.tokens[k].label();
        sink.firstLayer = out.layers[std::size_t(first)];
        sink.lastLayer = out.layers[std::size_t(last)];
        sink.layerCount = count;
        sink.peakMass = peak;
        sink.peakLayer = out.layers[std::size_t(peakIndex)];
        sink.kind = first < earlyLimit && count >= options.primaryLayerShare * layers ? SinkKind::Primary : SinkKind::Secondary;
        out.sinks.push_back(sink);
    }
    return out;
}

std::vector<int> sinkPositionsToExclude(const SinkAnalysis& sinks, int layer) {
    std::set<int> positions;
    for (std::size_t l = 0; l < sinks.layers.size(); ++l) {
        if (layer >= 0 && sinks.layers[l] != layer) continue;
        positions.insert(sinks.sinksByLayer[l].begin(), sinks.sinksByLayer[l].end());
    }
    return {positions.begin(), positions.end()};
}

HighNormTokens highNormTokens(const std::vector<std::vector<float>>& tokenNorms, const std::vector<int>& layers, double factor) {
    if (tokenNorms.size() != layers.size()) throw Error("high-norm tokens: norms for " + std::to_string(tokenNorms.size()) + " layers but " + std::to_string(layers.size()) + " layer indices");
    if (!(factor > 1.0)) throw Error("high-norm tokens: the factor must exceed 1");
    HighNormTokens out;
    out.factor = factor;
    for (std::size_t l = 0; l < tokenNorms.size(); ++l) {
        const std::vector<float>& norms = tokenNorms[l];
        if (norms.empty()) continue;
        std::vector<float> sorted = norms;
        std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(sorted.size() / 2), sorted.end());
        const float median = sorted[sorted.size() / 2];
        std::vector<int> positions;
        std::vector<float> ratios;
        for (std::size_t t = 0; t < norms.size(); ++t) {
            if (median > 0.0f && norms[t] > factor * median) {
                positions.push_back(int(t));
                ratios.push_back(norms[t] / median);
            }
        }
        out.layers.push_back(layers[l]);
        out.medians.push_back(median);
        out.positions.push_back(std::move(positions));
        out.ratios.push_back(std::move(ratios));
    }
    return out;
}

}  // namespace fovea
