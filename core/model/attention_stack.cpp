#include "core/model/attention_stack.h"

#include "core/io/safetensors.h"
#include "core/util/error.h"
#include "core/util/system.h"

#include <algorithm>

namespace fovea {

CaptureRequest CaptureRequest::nothing() {
    CaptureRequest request;
    request.attention = false;
    return request;
}

bool CaptureRequest::wantsLayer(int layer) const {
    if (!attention) return false;
    return layers.empty() || std::find(layers.begin(), layers.end(), layer) != layers.end();
}

namespace {

std::vector<int> resolveSelection(const std::vector<int>& selection, int count, const char* what) {
    if (selection.empty()) {
        std::vector<int> all(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) all[std::size_t(i)] = i;
        return all;
    }
    std::vector<int> sorted = selection;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (int index : sorted) {
        if (index < 0 || index >= count) {
            throw Error(std::string(what) + " " + std::to_string(index) + " does not exist: the model has " +
                        std::to_string(count) + " (0.." + std::to_string(count - 1) + ")");
        }
    }
    return sorted;
}

}  // namespace

std::vector<int> CaptureRequest::resolvedLayers(int modelLayers) const {
    if (!attention) return {};
    return resolveSelection(layers, modelLayers, "layer");
}

std::vector<int> CaptureRequest::resolvedHeads(int modelHeads) const {
    return resolveSelection(heads, modelHeads, "head");
}

CaptureEstimate estimateCapture(const CaptureRequest& request, int modelLayers, int modelHeads,
                                int tokens, int embedDim, int inputs) {
    CaptureEstimate estimate;
    estimate.layers = int(request.resolvedLayers(modelLayers).size());
    estimate.heads = int(request.resolvedHeads(modelHeads).size());
    estimate.tokens = tokens;
    const double perValue =
        (request.precision == AttentionPrecision::Float16 ? 2.0 : 4.0) + (request.gradients ? 4.0 : 0.0);
    estimate.bytes = std::size_t(double(estimate.layers) * estimate.heads * double(tokens) * tokens * perValue);
    const int tokenVectors = (request.keys ? 1 : 0) + (request.queries ? 1 : 0) + (request.values ? 1 : 0);
    estimate.bytes += std::size_t(double(estimate.layers) * tokenVectors * double(tokens) * embedDim * 4.0);
    estimate.bytes *= std::size_t(std::max(1, inputs));
    estimate.budgetBytes = request.memoryBudgetBytes ? request.memoryBudgetBytes : physicalMemoryBytes() / 4;
    return estimate;
}

void enforceCaptureBudget(const CaptureRequest& request, int modelLayers, int modelHeads, int tokens, int embedDim,
                          int inputs) {
    const CaptureEstimate estimate = estimateCapture(request, modelLayers, modelHeads, tokens, embedDim, inputs);
    if (estimate.fits()) return;
    throw Error("attention capture needs " + formatBytes(double(estimate.bytes)) + " (" +
                (inputs > 1 ? std::to_string(inputs) + " inputs x " : std::string()) +
                std::to_string(estimate.layers) + " layers x " + std::to_string(estimate.heads) +
                " heads x " + std::to_string(tokens) + "^2 tokens) but the budget is " +
                formatBytes(double(estimate.budgetBytes)) +
                (inputs > 1 ? "; run fewer inputs at once (--batch)," : ";") +
                " capture fewer layers (--layer), fewer heads (--head), use a smaller input,"
                " or raise the budget (--memory-budget)");
}

int AttentionLayer::headSlot(int head) const {
    const auto it = std::find(heads.begin(), heads.end(), head);
    return it == heads.end() ? -1 : int(it - heads.begin());
}

float AttentionLayer::value(int slot, int query, int key) const {
    const std::size_t index = (std::size_t(slot) * tokens + std::size_t(query)) * tokens + std::size_t(key);
    return precision == AttentionPrecision::Float16 ? halfToFloat(halfValues[index]) : floatValues[index];
}

std::vector<float> AttentionLayer::matrix(int slot) const {
    if (slot < 0 || slot >= int(heads.size())) {
        throw Error("layer " + std::to_string(layer) + ": head slot " + std::to_string(slot) +
                    " was not captured");
    }
    const std::size_t count = std::size_t(tokens) * tokens;
    const std::size_t offset = std::size_t(slot) * count;
    std::vector<float> out(count);
    if (precision == AttentionPrecision::Float16) {
        for (std::size_t i = 0; i < count; ++i) out[i] = halfToFloat(halfValues[offset + i]);
    } else {
        std::copy_n(floatValues.begin() + std::ptrdiff_t(offset), count, out.begin());
    }
    return out;
}

std::vector<float> AttentionLayer::allValues() const {
    if (precision == AttentionPrecision::Float32) return floatValues;
    std::vector<float> out(halfValues.size());
    for (std::size_t i = 0; i < halfValues.size(); ++i) out[i] = halfToFloat(halfValues[i]);
    return out;
}

namespace {

std::vector<float> headColumns(const std::vector<float>& all, int tokens, int headDim, int head, int layer,
                               const char* what) {
    const int width = tokens > 0 ? int(all.size() / std::size_t(tokens)) : 0;
    if (all.empty() || headDim <= 0 || head < 0 || (head + 1) * headDim > width) {
        throw Error("layer " + std::to_string(layer) + ": " + what + " of head " + std::to_string(head) +
                    " were not captured");
    }
    std::vector<float> out(std::size_t(tokens) * headDim);
    for (int t = 0; t < tokens; ++t) {
        std::copy_n(all.begin() + std::ptrdiff_t(std::size_t(t) * width + std::size_t(head) * headDim), headDim,
                    out.begin() + std::ptrdiff_t(std::size_t(t) * headDim));
    }
    return out;
}

}  // namespace

std::vector<float> AttentionLayer::headKeys(int head) const {
    return headColumns(keys, tokens, headDim, head, layer, "keys");
}

std::vector<float> AttentionLayer::headQueries(int head) const {
    return headColumns(queries, tokens, headDim, head, layer, "queries");
}

std::vector<float> AttentionLayer::headValues(int head) const {
    return headColumns(values, tokens, headDim, head, layer, "values");
}

std::size_t AttentionLayer::storedBytes() const {
    return halfValues.size() * 2 + floatValues.size() * 4 + gradient.size() * 4 + keys.size() * 4 + queries.size() * 4 +
           values.size() * 4;
}

const AttentionLayer* AttentionStack::findLayer(int index) const {
    for (const auto& entry : layers) {
        if (entry.layer == index) return &entry;
    }
    return nullptr;
}

const AttentionLayer& AttentionStack::layer(int index) const {
    if (const AttentionLayer* found = findLayer(index)) return *found;
    throw Error("attention of layer " + std::to_string(index) + " was not captured (the model has " +
                std::to_string(modelLayers) + " layers)");
}

bool AttentionStack::isMasked(int query, int key) const {
    if (causal && key > query) return true;
    return !keyMask.empty() && keyMask.at(std::size_t(key)) == 0;
}

bool AttentionStack::hasGradients() const {
    return !layers.empty() && std::all_of(layers.begin(), layers.end(),
                                          [](const AttentionLayer& l) { return !l.gradient.empty(); });
}

std::size_t AttentionStack::storedBytes() const {
    std::size_t total = 0;
    for (const auto& entry : layers) total += entry.storedBytes();
    return total;
}

}  // namespace fovea
