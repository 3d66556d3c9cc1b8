// Maps over the patch grid derived directly from captured attention: raw attention of one
// query token, and attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in
// Transformers", ACL 2020). Torch-free: they work on an AttentionStack.
//
//     HeadSelection heads = HeadSelection::parse("mean");
//     cv::Mat map = rawAttentionMap(out.attention, /*layer*/ 11, heads, /*query*/ 0);
//     cv::Mat rollout = rolloutMap(out.attention, heads, /*discardRatio*/ 0.0f, /*query*/ 0);
//     // both CV_32F, gridRows x gridCols
#pragma once

#include "core/model/attention_stack.h"

#include <opencv2/core/mat.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fovea {

enum class HeadFusion { Mean, Max, Min, Single };

struct HeadSelection {
    HeadFusion fusion = HeadFusion::Mean;
    int head = 0;  // for Single
    // "mean", "max", "min" or a head index.
    static HeadSelection parse(const std::string& text);
    std::string toString() const;
};

// Heads of one layer fused into a tokens x tokens matrix (row-major, float32).
std::vector<float> fuseHeads(const AttentionLayer& layer, const HeadSelection& selection);

// What `query` attends to in `layer`, over the patch grid.
cv::Mat rawAttentionMap(const AttentionStack& stack, int layer, const HeadSelection& selection,
                        int query);

// Rollout R = Â_L ... Â_1, Â_l = rownorm(0.5 fuse(A_l) + 0.5 I). discardRatio zeroes that fraction
// of the smallest fused weights per layer (as jacobgil/vit-explain), never entries of the CLS
// column, before adding the identity. Needs every layer captured. Returns tokens x tokens.
std::vector<float> rolloutMatrix(const AttentionStack& stack, const HeadSelection& selection,
                                 float discardRatio = 0.0f);
// The rollout recursion with any per-layer fusion (tokens x tokens, row-major, float32); gradient
// rollout passes gradient-weighted attention. Same discard rule as rolloutMatrix.
std::vector<float> rolloutOf(const AttentionStack& stack, const std::function<std::vector<float>(const AttentionLayer&)>& fuse,
                             float discardRatio);
// Â = rownorm(0.5 A + 0.5 I) for a fused tokens x tokens matrix: the residual connection as
// rollout and attention flow model it. Row-major, double.
std::vector<double> residualAttention(const std::vector<float>& fused, int tokens);
// Row `query` of the rollout matrix over the patch grid.
cv::Mat rolloutMap(const AttentionStack& stack, const HeadSelection& selection, float discardRatio,
                   int query);

// One map request as the CLI and the GUI phrase it.
struct AttentionMapOptions {
    std::string method = "raw";  // "raw" or "rollout"
    int layer = -1;              // raw: which layer; -1 = the last
    HeadSelection heads;
    int query = -1;              // sequence index; -1 = the CLS token (or the first token)
    float discardRatio = 0.0f;   // rollout only
};
const std::vector<std::string>& attentionMapMethods();
// The capture a map needs (raw: one layer; rollout: every layer), so nothing else is copied.
CaptureRequest captureForMap(const AttentionMapOptions& options, int modelLayers);
cv::Mat attentionMap(const AttentionStack& stack, const AttentionMapOptions& options);

// Values of one sequence row over the patch grid (CV_32F gridRows x gridCols).
cv::Mat patchGridFromRow(const TokenLayout& tokens, const float* row);

}  // namespace fovea
