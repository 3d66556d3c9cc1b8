// Attention flow (Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020):
// how much of a query token's output can be traced back to each input token when every
// layer's residual-adjusted attention is read as a network of pipes. Exact (max-flow) and fast.
// Torch-free: it works on an AttentionStack.
//
//     HeadSelection heads = HeadSelection::parse("mean");
//     std::vector<float> row = attentionFlowRow(out.attention, heads, /*query*/ 0);  // sums to 1
//     cv::Mat map = attentionFlowMap(out.attention, heads, /*query*/ 0);  // CV_32F patch grid
//
// Flow needs every layer captured (all heads, or the one selected). Cost: one max-flow per token
// on a graph of about L N^2 arcs (ViT-B/16: 0.8 M arcs, 12 MB shared plus 6 MB per thread, well
// under a second on two cores; the paper's networkx code takes hours).
#pragma once

#include "core/explain/attention_maps.h"
#include "core/model/attention_stack.h"

#include <opencv2/core/mat.hpp>

#include <functional>
#include <vector>

namespace fovea {

// Told the fraction of input tokens done so far (0..1), from the calling thread; returning
// false cancels the computation, which then throws fovea::Cancelled.
using FlowProgress = std::function<bool(double fraction)>;

// Max-flow values of the layered attention graph. layers[l - 1] is Â_l for l = 1..L (the first
// entry is the layer next to the input), each tokens x tokens row-major with non-negative
// entries (row = query, column = key). Node (l, i) for l = 1..L has an edge to node (l-1, k) of
// capacity Â_l[i][k]. Returns, for every input token k, the max flow from node (L, query) to
// node (0, k), unnormalised. threads <= 0: one worker per available core. Throws fovea::Error
// for malformed input.
std::vector<double> maxFlowLayered(const std::vector<std::vector<double>>& layers, int tokens,
                                   int query, int threads = 0, const FlowProgress& progress = {});

// Attention flow of `query` to every token: Â_l = residualAttention(fuseHeads(layer l)), max
// flow from (L, query) to each (0, k), normalised to sum 1 over all tokens. Throws fovea::Error
// when a layer was not captured.
std::vector<float> attentionFlowRow(const AttentionStack& stack, const HeadSelection& selection,
                                    int query, int threads = 0, const FlowProgress& progress = {});

// attentionFlowRow over the patch grid (CV_32F gridRows x gridCols).
cv::Mat attentionFlowMap(const AttentionStack& stack, const HeadSelection& selection, int query,
                         int threads = 0, const FlowProgress& progress = {});

}  // namespace fovea
