#include "core/model/text_transformer.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace fovea {

at::Tensor attentionAllowed(const TextInput& input, bool causal, const c10::Device& device) {
    const int64_t n = input.size();
    bool padded = false;
    for (const std::int64_t m : input.attentionMask) padded = padded || m == 0;
    if (!causal && !padded) return at::Tensor();
    at::Tensor allowed = at::ones({n, n}, at::kBool);
    if (causal) allowed = at::tril(allowed);
    if (padded) {
        const at::Tensor keys = tokenTensor(input.attentionMask, at::kCPU).reshape({1, n}).ne(0);
        allowed = allowed.logical_and(keys.expand({n, n}));
        // A row left with no key (a padding query under a causal mask) attends to itself, so the
        // softmax stays defined; rows with a real key are untouched.
        const at::Tensor empty = allowed.any(1).logical_not();
        allowed = allowed.logical_or(at::eye(n, at::kBool).logical_and(empty.unsqueeze(1)));
    }
    return allowed.reshape({1, 1, n, n}).to(device);
}

at::Tensor runTransformerStack(at::Tensor x, const std::vector<VitBlockWeights>& blocks,
                               const TransformerStackOptions& options, const at::Tensor& allowed,
                               ForwardCapture* capture, const std::vector<float>* headScales) {
    const int64_t batch = x.size(0), tokens = x.size(1), d = x.size(2);
    const int64_t heads = options.heads, headDim = d / heads;
    const double scale = 1.0 / std::sqrt(double(headDim));
    if (capture) {
        capture->attention.assign(blocks.size(), at::Tensor());
        capture->keys.assign(blocks.size(), at::Tensor());
        capture->queries.assign(blocks.size(), at::Tensor());
    }
    const double eps = options.layerNormEps;
    for (std::size_t l = 0; l < blocks.size(); ++l) {
        const VitBlockWeights& b = blocks[l];
        const at::Tensor h = options.preNorm ? at::layer_norm(x, {d}, b.norm1Weight, b.norm1Bias, eps) : x;
        const at::Tensor qkv = at::linear(h, b.qkvWeight, b.qkvBias).reshape({batch, tokens, 3, heads, headDim}).permute({2, 0, 3, 1, 4});
        const at::Tensor q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
        at::Tensor scores = at::matmul(q * scale, k.transpose(-2, -1));
        if (allowed.defined()) scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
        at::Tensor attention = scores.softmax(-1);
        if (capture && l < capture->attentionOffset.size() && capture->attentionOffset[l].defined()) {
            attention = attention + capture->attentionOffset[l];
        }
        if (capture && l < capture->layers.size() && capture->layers[l]) {
            if (capture->retainGradients && attention.requires_grad()) attention.retain_grad();
            capture->attention[l] = attention;
            if (capture->keepKeys) capture->keys[l] = k.detach();
            if (capture->keepQueries) capture->queries[l] = q.detach();
        }
        at::Tensor context = at::matmul(attention, v);  // [B, H, T, hd]
        if (headScales && !headScales->empty()) {
            // Head masking (Michel et al. 2019): each head's output scaled before the projection.
            const at::Tensor factors = at::tensor(std::vector<float>(headScales->begin() + std::ptrdiff_t(l * heads),
                                                                     headScales->begin() + std::ptrdiff_t((l + 1) * heads)))
                                           .to(context.device())
                                           .reshape({1, heads, 1, 1});
            context = context * factors;
        }
        at::Tensor mixed = at::linear(context.transpose(1, 2).reshape({batch, tokens, d}), b.projWeight, b.projBias);
        if (options.preNorm) {
            x = x + mixed;
            const at::Tensor m = at::layer_norm(x, {d}, b.norm2Weight, b.norm2Bias, eps);
            x = x + at::linear(applyActivation(at::linear(m, b.fc1Weight, b.fc1Bias), options.activation), b.fc2Weight, b.fc2Bias);
        } else {
            x = at::layer_norm(x + mixed, {d}, b.norm1Weight, b.norm1Bias, eps);
            const at::Tensor m = at::linear(applyActivation(at::linear(x, b.fc1Weight, b.fc1Bias), options.activation), b.fc2Weight, b.fc2Bias);
            x = at::layer_norm(x + m, {d}, b.norm2Weight, b.norm2Bias, eps);
        }
    }
    return x;
}

HeadScales keptHeadScales(const HeadScales& scales, int layers, int heads, const std::string& subject) {
    scales.checkShape(layers, heads, subject);
    return scales.isIdentity() ? HeadScales{} : scales;
}

at::Tensor tokenTensor(const std::vector<std::int64_t>& values, const c10::Device& device) {
    return at::tensor(values, at::kLong).reshape({1, int64_t(values.size())}).to(device);
}

std::vector<float> toFloatVector(const at::Tensor& tensor) {
    const at::Tensor flat = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
    return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

TextTarget resolveTextTarget(const at::Tensor& outputs, const TextInput& input, int index, int position) {
    TextTarget target;
    at::Tensor row;
    if (outputs.dim() == 3) {
        const int positions = int(outputs.size(1));
        target.position = position < 0 ? input.lastRealPosition() : position;
        if (target.position < 0 || target.position >= positions) {
            throw Error("target position " + std::to_string(target.position) + " does not exist: the input has " +
                        std::to_string(positions) + " tokens");
        }
        row = outputs.select(0, 0).select(0, target.position);
    } else {
        row = outputs.select(0, 0);
    }
    target.index = index < 0 ? int(row.argmax().item<int64_t>()) : index;
    if (target.index >= row.size(0)) {
        throw Error("target " + std::to_string(target.index) + " does not exist: the model has " +
                    std::to_string(row.size(0)) + " outputs");
    }
    return target;
}

at::Tensor targetScores(const at::Tensor& outputs, const TextTarget& target) {
    if (outputs.dim() == 3) return outputs.select(1, target.position).select(1, target.index);
    return outputs.select(1, target.index);
}

ModelOutputs runTextModel(DifferentiableTextModel& net, const ModelSpec& spec, const TextInput& given,
                          const CaptureRequest& request, int layers, int heads, int width, bool causal) {
    TextInput input = given;
    fitTextInput(input, spec, ContextOverflow::Refuse);  // validates; never truncates here
    const std::vector<int> keptLayers = request.resolvedLayers(layers);
    const std::vector<int> keptHeads = request.resolvedHeads(heads);
    if (request.attention) enforceCaptureBudget(request, layers, heads, input.size(), width);

    ForwardCapture capture;
    capture.layers.assign(std::size_t(layers), false);
    for (int l : keptLayers) capture.layers[std::size_t(l)] = true;
    capture.retainGradients = request.gradients;
    capture.keepKeys = request.keys;
    capture.keepQueries = request.queries;

    const auto start = std::chrono::steady_clock::now();
    ModelOutputs out;
    at::Tensor outputs, hidden;
    if (request.gradients) {
        const at::Tensor embeddings = net.tokenEmbeddings(input).detach().clone().requires_grad_(true);
        outputs = net.outputsFromEmbeddings(embeddings, input, &capture, &hidden);
        const TextTarget target = resolveTextTarget(outputs, input, request.gradientTarget, request.gradientPosition);
        targetScores(outputs, target).sum().backward();
    } else {
        c10::InferenceMode inference;
        const at::Tensor embeddings = net.tokenEmbeddings(input);
        outputs = net.outputsFromEmbeddings(embeddings, input, &capture, &hidden);
    }
    if (outputs.dim() == 3) {
        out.positions = int(outputs.size(1));
        out.positionLogits = toFloatVector(outputs.select(0, 0));
        out.logits = toFloatVector(outputs.select(0, 0).select(0, input.lastRealPosition()));
    } else {
        out.logits = toFloatVector(outputs.select(0, 0));
    }
    if (hidden.defined()) {
        out.hiddenWidth = int(hidden.size(2));
        out.lastHiddenState = toFloatVector(hidden.select(0, 0));
    }
    out.attention.tokens = input.tokens;
    out.attention.modelLayers = layers;
    out.attention.modelHeads = heads;
    out.attention.causal = causal;
    bool padded = false;
    for (const std::int64_t m : input.attentionMask) padded = padded || m == 0;
    if (padded) out.attention.keyMask.assign(input.attentionMask.begin(), input.attentionMask.end());
    for (int l : keptLayers) {
        AttentionLayer stored = storeAttentionLayer(l, capture.attention[std::size_t(l)], keptHeads, request.precision, request.gradients);
        stored.headDim = width / heads;
        if (request.keys) stored.keys = storeTokenVectors(capture.keys[std::size_t(l)]);
        if (request.queries) stored.queries = storeTokenVectors(capture.queries[std::size_t(l)]);
        out.attention.layers.push_back(std::move(stored));
    }
    out.notices = input.notices;
    out.forwardMilliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

}  // namespace fovea
