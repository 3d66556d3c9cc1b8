// Attention sinks: tokens that soak up a large share of every query's attention whatever the
// query is (Xiao et al. 2024, StreamingLLM; "See What You Are Told: Visual Attention Sink";
// "Unveiling and Harnessing Hidden Attention Sinks"), their life across layers (primary vs
// secondary sinks, "On the Existence and Behaviour of Secondary Attention Sinks"), a layer x
// token mass matrix for the sink timeline view, the positions to leave out of heatmaps, and
// high-norm tokens (the background patches that ViT registers absorb, Darcet et al. 2024).
//
//     SinkAnalysis sinks = analyzeAttentionSinks(out.attention);      // tau = 0.2
//     for (const SinkToken& sink : sinks.sinks)
//         std::printf("%s: %s sink in layers %d..%d\n", sink.label.c_str(),
//                     sinkKindName(sink.kind), sink.firstLayer, sink.lastLayer);
//     float m = sinks.mass(layerIndex, token);                        // the timeline cell
//     std::vector<int> hide = sinkPositionsToExclude(sinks);          // "exclude sink tokens"
//     HighNormTokens outliers = highNormTokens(valueNorms(out.attention), stackLayers);
//
// Definitions (REFERENCES.md, Heads):
// - Incoming mass of key k in a layer: the mean over the layer's captured heads and over valid
//   queries of A[q, k] ("mean incoming mass per query"). A token is a sink in a layer when its
//   incoming mass exceeds tau.
// - Primary sink: a sink in at least `primaryLayerShare` (1/2) of the captured layers, starting in
//   the first `earlyLayerShare` (1/3) of them -- there from early on and for most of the depth
//   (BOS / first token in LLMs, CLS or a background patch in ViTs). Secondary sink: any other
//   sink -- it appears in middle layers, or lives for a shorter span.
// - High-norm token: in a layer, a token whose norm exceeds `normFactor` (3) times the layer's
//   median token norm.
#pragma once

#include "core/model/attention_stack.h"

#include <string>
#include <vector>

namespace fovea {

enum class SinkKind { Primary, Secondary };
const char* sinkKindName(SinkKind kind);  // "primary", "secondary"

struct SinkOptions {
    double tau = 0.2;
    double primaryLayerShare = 0.5;
    double earlyLayerShare = 1.0 / 3.0;
};

struct SinkToken {
    int position = 0;
    std::string label;  // TokenInfo::label(): "CLS", "P(3,5)", the text
    SinkKind kind = SinkKind::Secondary;
    int firstLayer = 0, lastLayer = 0;  // model layer indices
    int layerCount = 0;                 // layers in which it is a sink
    float peakMass = 0.0f;              // largest incoming mass over layers
    int peakLayer = 0;
};

struct SinkAnalysis {
    double tau = 0.2;
    std::vector<int> layers;                   // captured model layers, stack order
    int tokens = 0;
    std::vector<float> massMatrix;             // layers x tokens: incoming mass per query
    std::vector<std::vector<int>> sinksByLayer;  // per layer: positions with mass > tau, ascending
    std::vector<SinkToken> sinks;              // every token that is a sink in some layer, by position

    float mass(int layerIndex, int token) const {
        return massMatrix[std::size_t(layerIndex) * std::size_t(tokens) + std::size_t(token)];
    }
};

SinkAnalysis analyzeAttentionSinks(const AttentionStack& stack, const SinkOptions& options = {});

// Positions to leave out of heatmaps: the sinks of model layer `layer`, or of any layer (-1).
std::vector<int> sinkPositionsToExclude(const SinkAnalysis& sinks, int layer = -1);

struct HighNormTokens {
    double factor = 3.0;
    std::vector<int> layers;                     // model layers (those with norms)
    std::vector<float> medians;                  // per layer
    std::vector<std::vector<int>> positions;     // per layer: outlier positions, ascending
    std::vector<std::vector<float>> ratios;      // per layer: their norm / median
};
// tokenNorms per layer (e.g. valueNorms(stack)); layers: the model layer of each entry. Layers with
// no norms are skipped.
HighNormTokens highNormTokens(const std::vector<std::vector<float>>& tokenNorms, const std::vector<int>& layers,
                              double factor = 3.0);

}  // namespace fovea
