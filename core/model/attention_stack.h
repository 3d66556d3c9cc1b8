// Attention capture: what to keep from a forward pass (CaptureRequest), how much memory that
// will take (estimateCapture, checked before the run), and what comes back (AttentionStack).
//
//     CaptureRequest request;               // all layers, all heads, float16, no gradients
//     request.layers = {11};                // only the last layer of ViT-B
//     ModelOutputs out = model.run(input, request);
//     const AttentionLayer& last = out.attention.layer(11);
//     float a = last.value(last.headSlot(3), /*query*/ 0, /*key*/ 5);
//
// Storage is float16 unless float32 is asked for: a ViT-B/16 capture of all 12 layers and
// heads is 12 x 12 x 197^2 values, 11 MiB in float16; a 1,024-token text model is 50x that.
#pragma once

#include "core/model/token_info.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fovea {

enum class AttentionPrecision { Float16, Float32 };

struct CaptureRequest {
    std::vector<int> layers;  // empty: every layer
    std::vector<int> heads;   // empty: every head
    bool attention = true;    // false: run the model only for its outputs
    bool gradients = false;   // also keep d(target logit)/d(attention), float32
    bool keys = false;        // also keep the keys of the captured layers (all heads, float32)
    bool queries = false;     // also keep the queries (all heads, float32)
    bool values = false;      // also keep the values (all heads, float32)
    int gradientTarget = -1;  // class whose logit is differentiated; -1: the top-1 class.
                              // Language models: the output token (GPT-2's next token, BERT's
                              // masked-LM token) at gradientPosition; CLIP: ignored (the
                              // image-text similarity is differentiated).
    int gradientPosition = -1;  // language models: the position whose output is differentiated;
                                // -1: the last real (non-padding) position
    AttentionPrecision precision = AttentionPrecision::Float16;
    std::size_t memoryBudgetBytes = 0;  // 0: a quarter of physical memory

    static CaptureRequest nothing();
    bool wantsLayer(int layer) const;
    // The selected layers / heads resolved against a model's counts (validated).
    std::vector<int> resolvedLayers(int modelLayers) const;
    std::vector<int> resolvedHeads(int modelHeads) const;
};

struct CaptureEstimate {
    int layers = 0;
    int heads = 0;
    int tokens = 0;
    std::size_t bytes = 0;
    std::size_t budgetBytes = 0;
    bool fits() const { return bytes <= budgetBytes; }
};

// embedDim: the model's token width, for the keys / queries / values a request asks for (0: none counted).
// inputs: how many inputs are captured at once (a batch).
CaptureEstimate estimateCapture(const CaptureRequest& request, int modelLayers, int modelHeads,
                                int tokens, int embedDim = 0, int inputs = 1);
// Throws fovea::Error with the needed size and how to narrow the request when over budget.
void enforceCaptureBudget(const CaptureRequest& request, int modelLayers, int modelHeads,
                          int tokens, int embedDim = 0, int inputs = 1);

// Attention of one layer for the captured heads: [heads, tokens(query), tokens(key)].
struct AttentionLayer {
    int layer = 0;
    std::vector<int> heads;  // model head index of each stored slot
    int tokens = 0;
    AttentionPrecision precision = AttentionPrecision::Float16;
    std::vector<std::uint16_t> halfValues;  // float16 bits when precision is Float16
    std::vector<float> floatValues;         // when precision is Float32
    std::vector<float> gradient;            // optional, same shape, float32
    // Optional (CaptureRequest::keys / queries / values): every head's keys / queries / values
    // concatenated, [tokens, modelHeads * headDim] row-major float32, head h in columns
    // h*headDim.. (the layout LOST and TokenCut use); the scaling 1/sqrt(headDim) is not applied.
    // Values are what the attention mixes: head h's output is attention(h) x values(h).
    std::vector<float> keys;
    std::vector<float> queries;
    std::vector<float> values;
    int headDim = 0;

    bool hasKeys() const { return !keys.empty(); }
    int keyWidth() const { return tokens > 0 ? int(keys.size() / std::size_t(tokens)) : 0; }

    int headSlot(int head) const;  // -1 when that head was not captured
    float value(int slot, int query, int key) const;
    // One head's matrix as float32, tokens x tokens row-major.
    std::vector<float> matrix(int slot) const;
    // Every captured head as float32, [heads, tokens, tokens].
    std::vector<float> allValues() const;
    // One head's keys, queries or values (model head index), [tokens, headDim]; throws when not
    // captured.
    std::vector<float> headKeys(int head) const;
    std::vector<float> headQueries(int head) const;
    std::vector<float> headValues(int head) const;
    std::size_t storedBytes() const;
};

struct AttentionStack {
    TokenLayout tokens;
    int modelLayers = 0;
    int modelHeads = 0;
    std::vector<AttentionLayer> layers;  // ascending layer order
    // Masks the model applied (views grey these entries out: masked is not the same as zero).
    bool causal = false;                // query q saw only keys 0..q
    std::vector<std::uint8_t> keyMask;  // per position: 0 = padding, masked as a key; empty: none

    // True when the model never let `query` see `key` (future key, or a padding key).
    bool isMasked(int query, int key) const;

    bool empty() const { return layers.empty(); }
    const AttentionLayer* findLayer(int layer) const;
    const AttentionLayer& layer(int layer) const;  // throws Error if not captured
    bool hasGradients() const;
    std::size_t storedBytes() const;
};

}  // namespace fovea
