#include "core/model/vit.h"

#include "core/model/torch_tensors.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

namespace fovea {

std::vector<std::pair<std::string, at::Tensor*>> VitWeights::namedTensors() {
    std::vector<std::pair<std::string, at::Tensor*>> out;
    auto add = [&](const std::string& name, at::Tensor& tensor) {
        if (tensor.defined()) out.emplace_back(name, &tensor);
    };
    add("cls_token", classToken);
    add("dist_token", distillationToken);
    add("reg_token", registerTokens);
    add("pos_embed", positionEmbedding);
    add("norm_pre.weight", preNormWeight);
    add("norm_pre.bias", preNormBias);
    add("patch_embed.proj.weight", patchWeight);
    add("patch_embed.proj.bias", patchBias);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const std::string p = "blocks." + std::to_string(i) + ".";
        VitBlockWeights& b = blocks[i];
        add(p + "norm1.weight", b.norm1Weight);
        add(p + "norm1.bias", b.norm1Bias);
        add(p + "attn.qkv.weight", b.qkvWeight);
        add(p + "attn.qkv.bias", b.qkvBias);
        add(p + "attn.proj.weight", b.projWeight);
        add(p + "attn.proj.bias", b.projBias);
        add(p + "ls1.gamma", b.layerScale1);
        add(p + "norm2.weight", b.norm2Weight);
        add(p + "norm2.bias", b.norm2Bias);
        add(p + "mlp.fc1.weight", b.fc1Weight);
        add(p + "mlp.fc1.bias", b.fc1Bias);
        add(p + "mlp.fc2.weight", b.fc2Weight);
        add(p + "mlp.fc2.bias", b.fc2Bias);
        add(p + "ls2.gamma", b.layerScale2);
    }
    add("norm.weight", normWeight);
    add("norm.bias", normBias);
    add("fc_norm.weight", fcNormWeight);
    add("fc_norm.bias", fcNormBias);
    add("head.weight", headWeight);
    add("head.bias", headBias);
    add("head_dist.weight", headDistWeight);
    add("head_dist.bias", headDistBias);
    return out;
}

VitWeights initializeVitWeights(const ModelSpec& spec, std::uint64_t seed) {
    torch::NoGradGuard noGrad;
    at::manual_seed(seed);
    const int64_t d = spec.embedDim;
    auto normal = [](std::vector<int64_t> shape, double std) {
        // Truncated at two standard deviations, as timm's trunc_normal_(std=.02).
        return at::clamp(at::randn(shape) * std, -2.0 * std, 2.0 * std);
    };
    VitWeights w;
    w.patchWeight = normal({d, spec.channels, spec.patchSize, spec.patchSize}, 0.02);
    w.patchBias = at::zeros({d});
    if (spec.classToken) w.classToken = normal({1, 1, d}, 1e-6);
    if (spec.distillationToken) w.distillationToken = normal({1, 1, d}, 0.02);
    if (spec.registerTokens > 0) w.registerTokens = normal({1, spec.registerTokens, d}, 1e-6);
    const int64_t positions = int64_t(spec.gridRows()) * spec.gridCols() + (spec.noEmbedClass ? 0 : spec.prefixTokens());
    w.positionEmbedding = normal({1, positions, d}, 0.02);
    for (int i = 0; i < spec.depth; ++i) {
        VitBlockWeights b;
        b.norm1Weight = at::ones({d});
        b.norm1Bias = at::zeros({d});
        b.qkvWeight = normal({3 * d, d}, 0.02);
        if (spec.qkvBias) b.qkvBias = at::zeros({3 * d});
        b.projWeight = normal({d, d}, 0.02);
        b.projBias = at::zeros({d});
        b.norm2Weight = at::ones({d});
        b.norm2Bias = at::zeros({d});
        b.fc1Weight = normal({spec.mlpHidden, d}, 0.02);
        b.fc1Bias = at::zeros({spec.mlpHidden});
        b.fc2Weight = normal({d, spec.mlpHidden}, 0.02);
        b.fc2Bias = at::zeros({d});
        if (spec.layerScale) {
            b.layerScale1 = at::full({d}, 1e-5);
            b.layerScale2 = at::full({d}, 1e-5);
        }
        w.blocks.push_back(b);
    }
    if (spec.fcNorm) {
        w.fcNormWeight = at::ones({d});
        w.fcNormBias = at::zeros({d});
    } else {
        w.normWeight = at::ones({d});
        w.normBias = at::zeros({d});
    }
    if (spec.numClasses > 0) {
        w.headWeight = normal({spec.numClasses, d}, 0.02);
        w.headBias = at::zeros({spec.numClasses});
        if (spec.distillationToken) {
            w.headDistWeight = normal({spec.numClasses, d}, 0.02);
            w.headDistBias = at::zeros({spec.numClasses});
        }
    }
    return w;
}

VitModel::VitModel(ModelSpec spec, VitWeights weights, const std::string& device)
    : m_spec(std::move(spec)), m_weights(std::move(weights)), m_device(device) {
    const at::Device target(device);
    int64_t count = 0;
    for (auto& [name, tensor] : m_weights.namedTensors()) {
        *tensor = tensor->to(target);
        count += tensor->numel();
    }
    m_spec.parameterCount = count;
}

TokenLayout VitModel::tokenLayout(int height, int width) const {
    return TokenLayout::forVisionTransformer(m_spec.classToken, m_spec.distillationToken, m_spec.registerTokens,
                                             height / m_spec.patchSize, width / m_spec.patchSize);
}

at::Tensor VitModel::positionEmbeddingFor(int gridRows, int gridCols) {
    if (gridRows == m_spec.gridRows() && gridCols == m_spec.gridCols()) return m_weights.positionEmbedding;
    const auto key = std::make_pair(gridRows, gridCols);
    const bool cacheable = !m_weights.positionEmbedding.requires_grad();
    if (cacheable) {
        const auto found = m_resampledPositions.find(key);
        if (found != m_resampledPositions.end()) return found->second;
    }
    const int64_t prefix = m_spec.noEmbedClass ? 0 : m_spec.prefixTokens();
    const int64_t d = m_spec.embedDim;
    const at::Tensor& pos = m_weights.positionEmbedding;
    at::Tensor prefixPart = pos.narrow(1, 0, prefix);
    at::Tensor grid = pos.narrow(1, prefix, pos.size(1) - prefix)
                          .reshape({1, m_spec.gridRows(), m_spec.gridCols(), d})
                          .permute({0, 3, 1, 2});
    at::Tensor resized;
    if (m_spec.layout == "huggingface") {
        // transformers' ViT interpolate_pos_encoding: bicubic (a = -0.75), no antialiasing.
        resized = at::upsample_bicubic2d(grid, {gridRows, gridCols}, /*align_corners=*/false);
    } else {
        // timm's resample_abs_pos_embed: bicubic with antialias=True (PIL-style kernel, a = -0.5).
        resized = at::_upsample_bicubic2d_aa(grid, {gridRows, gridCols}, /*align_corners=*/false);
    }
    resized = resized.permute({0, 2, 3, 1}).reshape({1, int64_t(gridRows) * gridCols, d});
    at::Tensor result = prefix > 0 ? at::cat({prefixPart, resized}, 1) : resized;
    if (cacheable) m_resampledPositions[key] = result;
    return result;
}

at::Tensor VitModel::embed(const at::Tensor& pixels) {
    const int64_t p = m_spec.patchSize;
    at::Tensor x = at::conv2d(pixels, m_weights.patchWeight, m_weights.patchBias, {p, p});
    const int gridRows = int(x.size(2));
    const int gridCols = int(x.size(3));
    x = x.flatten(2).transpose(1, 2);  // [B, patches, D]
    const int64_t batch = x.size(0);
    std::vector<at::Tensor> sequence;
    if (m_weights.classToken.defined()) sequence.push_back(m_weights.classToken.expand({batch, -1, -1}));
    if (m_weights.distillationToken.defined()) sequence.push_back(m_weights.distillationToken.expand({batch, -1, -1}));
    if (m_weights.registerTokens.defined()) sequence.push_back(m_weights.registerTokens.expand({batch, -1, -1}));
    const at::Tensor pos = positionEmbeddingFor(gridRows, gridCols);
    if (m_spec.noEmbedClass) {
        // Position embeddings cover the patches only; prefix tokens carry none (DINOv2 with registers).
        x = x + pos;
        sequence.push_back(x);
        x = sequence.size() > 1 ? at::cat(sequence, 1) : x;
    } else {
        sequence.push_back(x);
        x = sequence.size() > 1 ? at::cat(sequence, 1) : x;
        x = x + pos;
    }
    if (m_weights.preNormWeight.defined()) {
        x = at::layer_norm(x, {m_spec.embedDim}, m_weights.preNormWeight, m_weights.preNormBias, m_spec.layerNormEps);
    }
    return x;
}

at::Tensor VitModel::head(const at::Tensor& tokens) {
    const int64_t d = m_spec.embedDim;
    at::Tensor x = tokens;
    if (m_weights.normWeight.defined()) x = at::layer_norm(x, {d}, m_weights.normWeight, m_weights.normBias, m_spec.layerNormEps);
    at::Tensor pooled;
    if (m_spec.pooling == "avg") {
        pooled = x.narrow(1, m_spec.prefixTokens(), x.size(1) - m_spec.prefixTokens()).mean(1);
    } else {
        pooled = x.select(1, 0);
    }
    if (m_weights.fcNormWeight.defined()) {
        pooled = at::layer_norm(pooled, {d}, m_weights.fcNormWeight, m_weights.fcNormBias, m_spec.layerNormEps);
    }
    if (!m_weights.headWeight.defined()) return pooled;
    at::Tensor logits = at::linear(pooled, m_weights.headWeight, m_weights.headBias);
    if (m_weights.headDistWeight.defined()) {
        // DeiT at eval time: the mean of the class-token head and the distillation-token head.
        const at::Tensor distLogits = at::linear(x.select(1, 1), m_weights.headDistWeight, m_weights.headDistBias);
        logits = (logits + distLogits) / 2;
    }
    return logits;
}

c10::Device VitModel::device() const { return c10::Device(m_device); }

std::string VitModel::featureLayerName(int layer) const {
    return m_spec.layout == "huggingface" ? "vit.encoder.layer." + std::to_string(layer) + ".layernorm_before (input)"
                                          : "blocks." + std::to_string(layer) + ".norm1 (input)";
}

at::Tensor VitModel::forward(const at::Tensor& pixels, ForwardCapture* capture, FeatureTap* tap) {
    const at::Tensor x = embed(pixels);
    if (tap && tap->layer >= int(m_weights.blocks.size())) {
        throw Error("feature layer " + std::to_string(tap->layer) + " does not exist: the model has " +
                    std::to_string(m_weights.blocks.size()) + " blocks");
    }
    return head(runBlocks(x, 0, m_headScaleTensor, capture, tap, pixels.size(2) / m_spec.patchSize,
                          pixels.size(3) / m_spec.patchSize, nullptr));
}

at::Tensor VitModel::embedTokens(const at::Tensor& pixels) { return embed(pixels); }

at::Tensor VitModel::logitsFromLayer(const at::Tensor& tokens, int first, const at::Tensor& scales,
                                     std::vector<at::Tensor>* layerInputs) {
    if (first < 0 || first >= int(m_weights.blocks.size())) {
        throw Error("layer " + std::to_string(first) + " does not exist: the model has " +
                    std::to_string(m_weights.blocks.size()) + " blocks");
    }
    const at::Tensor& factors = scales.defined() ? scales : m_headScaleTensor;
    if (factors.defined() && (factors.dim() < 2 || factors.dim() > 3 || factors.size(-2) != m_spec.depth ||
                              factors.size(-1) != m_spec.numHeads || (factors.dim() == 3 && factors.size(0) != tokens.size(0)))) {
        throw Error("head scales must be [layers, heads] or [batch, layers, heads] for " + std::to_string(m_spec.depth) +
                    " x " + std::to_string(m_spec.numHeads) + " heads");
    }
    return head(runBlocks(tokens, first, factors, nullptr, nullptr, 0, 0, layerInputs));
}

at::Tensor VitModel::runBlocks(at::Tensor x, int first, const at::Tensor& scales, ForwardCapture* capture, FeatureTap* tap,
                               int64_t gridRows, int64_t gridCols, std::vector<at::Tensor>* layerInputs) {
    const int64_t d = m_spec.embedDim;
    const int64_t heads = m_spec.numHeads;
    const int64_t headDim = d / heads;
    const double scale = 1.0 / std::sqrt(double(headDim));
    const int64_t batch = x.size(0);
    const int64_t tokens = x.size(1);
    if (capture) {
        capture->attention.assign(m_weights.blocks.size(), at::Tensor());
        capture->keys.assign(m_weights.blocks.size(), at::Tensor());
        capture->queries.assign(m_weights.blocks.size(), at::Tensor());
        capture->values.assign(m_weights.blocks.size(), at::Tensor());
    }
    if (layerInputs) layerInputs->assign(m_weights.blocks.size(), at::Tensor());
    for (std::size_t l = std::size_t(first); l < m_weights.blocks.size(); ++l) {
        const VitBlockWeights& b = m_weights.blocks[l];
        if (tap && tap->layer == int(l)) {
            // Expose the patch tokens as a grid that is itself a node of the graph, then rebuild
            // the sequence from it so gradients and replacements flow through the grid.
            const int64_t prefix = m_spec.prefixTokens();
            at::Tensor grid = x.narrow(1, prefix, tokens - prefix).transpose(1, 2).reshape({batch, d, gridRows, gridCols});
            if (tap->replace) grid = tap->replace(grid);
            tap->features = grid;
            const at::Tensor patches = grid.flatten(2).transpose(1, 2);
            x = prefix > 0 ? at::cat({x.narrow(1, 0, prefix), patches}, 1) : patches;
        }
        if (layerInputs) (*layerInputs)[l] = x;
        at::Tensor h = at::layer_norm(x, {d}, b.norm1Weight, b.norm1Bias, m_spec.layerNormEps);
        at::Tensor qkv = at::linear(h, b.qkvWeight, b.qkvBias).reshape({batch, tokens, 3, heads, headDim}).permute({2, 0, 3, 1, 4});
        const at::Tensor q = qkv.select(0, 0);
        const at::Tensor k = qkv.select(0, 1);
        const at::Tensor v = qkv.select(0, 2);
        at::Tensor attention = at::matmul(q * scale, k.transpose(-2, -1)).softmax(-1);
        if (capture && l < capture->attentionOffset.size() && capture->attentionOffset[l].defined()) {
            attention = attention + capture->attentionOffset[l];
        }
        if (capture && l < capture->layers.size() && capture->layers[l]) {
            if (capture->retainGradients) attention.retain_grad();
            capture->attention[l] = attention;
            if (capture->keepKeys) capture->keys[l] = k.detach();
            if (capture->keepQueries) capture->queries[l] = q.detach();
            if (capture->keepValues) capture->values[l] = v.detach();
        }
        at::Tensor context = at::matmul(attention, v);  // [B, H, N, hd]
        if (scales.defined()) {
            // Head masks (Michel et al. 2019, eq. 2): each head's output scaled before the
            // output projection. [L, H] or [B, L, H] -> [1 or B, H, 1, 1].
            context = context * scales.select(-2, int64_t(l)).reshape({-1, heads, 1, 1});
        }
        at::Tensor mixed = context.transpose(1, 2).reshape({batch, tokens, d});
        mixed = at::linear(mixed, b.projWeight, b.projBias);
        if (b.layerScale1.defined()) mixed = mixed * b.layerScale1;
        x = x + mixed;
        h = at::layer_norm(x, {d}, b.norm2Weight, b.norm2Bias, m_spec.layerNormEps);
        h = at::linear(applyActivation(at::linear(h, b.fc1Weight, b.fc1Bias), m_spec.activation), b.fc2Weight, b.fc2Bias);
        if (b.layerScale2.defined()) h = h * b.layerScale2;
        x = x + h;
    }
    return x;
}

void VitModel::setHeadScales(const HeadScales& scales) {
    scales.checkShape(m_spec.depth, m_spec.numHeads, m_spec.architecture.empty() ? "vit" : m_spec.architecture);
    if (scales.isIdentity()) {
        m_headScales = HeadScales{};
        m_headScaleTensor = at::Tensor();
        return;
    }
    m_headScales = scales;
    m_headScaleTensor = at::tensor(scales.values(), at::kFloat).reshape({m_spec.depth, m_spec.numHeads}).to(at::Device(m_device));
}

HeadScales VitModel::headScales() const {
    return m_headScales.empty() ? HeadScales::identity(m_spec.depth, m_spec.numHeads) : m_headScales;
}

at::Tensor applyActivation(const at::Tensor& x, const std::string& activation) {
    if (activation == "gelu_tanh") return at::gelu(x, "tanh");
    if (activation == "quick_gelu") return x * at::sigmoid(1.702 * x);  // Radford et al. 2021 (CLIP)
    return at::gelu(x);
}

AttentionLayer storeAttentionLayer(int layer, const at::Tensor& attention, const std::vector<int>& heads,
                                   AttentionPrecision precision, bool withGradient, int item) {
    AttentionLayer out;
    out.layer = layer;
    out.heads = heads;
    out.tokens = int(attention.size(-1));
    out.precision = precision;
    bool everyHead = int64_t(heads.size()) == attention.size(1);
    for (std::size_t i = 0; everyHead && i < heads.size(); ++i) everyHead = heads[i] == int(i);
    // The item's [H, N, N], narrowed to the requested heads when they are not all of them.
    const auto chosen = [&](const at::Tensor& all) {
        const at::Tensor one = all.select(0, item);
        if (everyHead) return one;
        const at::Tensor index = at::tensor(std::vector<int64_t>(heads.begin(), heads.end()), at::kLong);
        return one.index_select(0, index.to(all.device()));
    };
    const at::Tensor selected = chosen(attention.detach());
    // One pass: converted and copied straight into the stored buffer (copy_ takes any device,
    // dtype and strides).
    if (precision == AttentionPrecision::Float16) {
        out.halfValues.resize(std::size_t(selected.numel()));
        at::from_blob(out.halfValues.data(), selected.sizes(), at::kHalf).copy_(selected);
    } else {
        out.floatValues.resize(std::size_t(selected.numel()));
        at::from_blob(out.floatValues.data(), selected.sizes(), at::kFloat).copy_(selected);
    }
    if (withGradient) {
        const at::Tensor grad = chosen(attention.grad()).to(at::kCPU, at::kFloat).contiguous();
        out.gradient.assign(grad.data_ptr<float>(), grad.data_ptr<float>() + grad.numel());
    }
    return out;
}

std::vector<float> storeTokenVectors(const at::Tensor& perHead, int item) {
    const at::Tensor flat = perHead.select(0, item).transpose(0, 1).reshape({perHead.size(2), -1}).to(at::kCPU, at::kFloat).contiguous();
    return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

void VitModel::checkInput(const ImageInput& input) const {
    if (input.pixels.size() != std::size_t(m_spec.channels) * input.height * input.width) {
        throw Error(input.source.empty() ? "input" : input.source,
                    "pixel buffer does not match its size " + std::to_string(input.height) + "x" + std::to_string(input.width));
    }
    if (input.height % m_spec.patchSize != 0 || input.width % m_spec.patchSize != 0 || input.height <= 0 || input.width <= 0) {
        throw Error(input.source.empty() ? "input" : input.source,
                    "size " + std::to_string(input.height) + "x" + std::to_string(input.width) +
                        " is not a positive multiple of the patch size " + std::to_string(m_spec.patchSize));
    }
}

void VitModel::storeCapture(ModelOutputs& out, const ForwardCapture& capture, const CaptureRequest& request,
                            const std::vector<int>& layers, const std::vector<int>& heads, int item) const {
    out.attention.modelLayers = m_spec.depth;
    out.attention.modelHeads = m_spec.numHeads;
    for (int l : layers) {
        AttentionLayer stored =
            storeAttentionLayer(l, capture.attention[std::size_t(l)], heads, request.precision, request.gradients, item);
        stored.headDim = m_spec.embedDim / m_spec.numHeads;
        if (request.keys) stored.keys = storeTokenVectors(capture.keys[std::size_t(l)], item);
        if (request.queries) stored.queries = storeTokenVectors(capture.queries[std::size_t(l)], item);
        if (request.values) stored.values = storeTokenVectors(capture.values[std::size_t(l)], item);
        out.attention.layers.push_back(std::move(stored));
    }
}

namespace {

ForwardCapture captureFor(const CaptureRequest& request, int depth, const std::vector<int>& layers) {
    ForwardCapture capture;
    capture.layers.assign(std::size_t(depth), false);
    for (int l : layers) capture.layers[std::size_t(l)] = true;
    capture.retainGradients = request.gradients;
    capture.keepKeys = request.keys;
    capture.keepQueries = request.queries;
    capture.keepValues = request.values;
    return capture;
}

}  // namespace

ModelOutputs VitModel::run(const ImageInput& input, const CaptureRequest& request) {
    checkInput(input);
    const TokenLayout layout = tokenLayout(input.height, input.width);
    const std::vector<int> layers = request.resolvedLayers(m_spec.depth);
    const std::vector<int> heads = request.resolvedHeads(m_spec.numHeads);
    if (request.attention) enforceCaptureBudget(request, m_spec.depth, m_spec.numHeads, layout.size(), m_spec.embedDim);

    ForwardCapture capture = captureFor(request, m_spec.depth, layers);

    const auto start = std::chrono::steady_clock::now();
    at::Tensor pixels = torch::from_blob(const_cast<float*>(input.pixels.data()),
                                         {1, m_spec.channels, input.height, input.width}, at::kFloat)
                            .to(at::Device(m_device));
    ModelOutputs out;
    at::Tensor logits;
    if (request.gradients) {
        // Gradients flow to the attention maps through the input; weights stay frozen.
        pixels = pixels.clone().requires_grad_(true);
        logits = forward(pixels, &capture);
        int target = request.gradientTarget;
        if (target < 0) target = int(logits.argmax(1).item<int64_t>());
        if (target >= logits.size(1)) {
            throw Error("gradient target class " + std::to_string(target) + " does not exist: the model has " +
                        std::to_string(logits.size(1)) + " outputs");
        }
        logits.select(1, target).sum().backward();
    } else {
        c10::InferenceMode inference;
        logits = forward(pixels, &capture);
        logits = logits.clone();
    }
    const at::Tensor cpuLogits = logits.detach().select(0, 0).to(at::kCPU, at::kFloat).contiguous();
    out.logits.assign(cpuLogits.data_ptr<float>(), cpuLogits.data_ptr<float>() + cpuLogits.numel());
    out.attention.tokens = layout;
    storeCapture(out, capture, request, layers, heads, 0);
    out.forwardMilliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

std::vector<ModelOutputs> VitModel::runBatch(const std::vector<ImageInput>& inputs, const CaptureRequest& request) {
    for (const ImageInput& input : inputs) checkInput(input);
    bool oneSize = true;
    for (const ImageInput& input : inputs)
        oneSize = oneSize && input.height == inputs.front().height && input.width == inputs.front().width;
    // Gradients are per input (each its own target): those run one at a time, as do mixed sizes.
    if (inputs.size() <= 1 || !oneSize || request.gradients) return Model::runBatch(inputs, request);

    const int count = int(inputs.size());
    const int height = inputs.front().height, width = inputs.front().width;
    const TokenLayout layout = tokenLayout(height, width);
    const std::vector<int> layers = request.resolvedLayers(m_spec.depth);
    const std::vector<int> heads = request.resolvedHeads(m_spec.numHeads);
    if (request.attention)
        enforceCaptureBudget(request, m_spec.depth, m_spec.numHeads, layout.size(), m_spec.embedDim, count);
    ForwardCapture capture = captureFor(request, m_spec.depth, layers);

    const auto start = std::chrono::steady_clock::now();
    const std::size_t imageSize = std::size_t(m_spec.channels) * height * width;
    at::Tensor pixels = at::empty({count, m_spec.channels, height, width}, at::kFloat);
    for (int b = 0; b < count; ++b)
        std::copy(inputs[std::size_t(b)].pixels.begin(), inputs[std::size_t(b)].pixels.end(),
                  pixels.data_ptr<float>() + std::size_t(b) * imageSize);
    at::Tensor logits;
    {
        c10::InferenceMode inference;
        logits = forward(pixels.to(at::Device(m_device)), &capture).to(at::kCPU, at::kFloat).contiguous();
    }
    std::vector<ModelOutputs> outputs(static_cast<std::size_t>(count));
    for (int b = 0; b < count; ++b) {
        ModelOutputs& out = outputs[std::size_t(b)];
        const float* row = logits.data_ptr<float>() + std::size_t(b) * std::size_t(logits.size(1));
        out.logits.assign(row, row + logits.size(1));
        out.attention.tokens = layout;
        storeCapture(out, capture, request, layers, heads, b);
    }
    // The pass is shared: each input is charged an equal part of it.
    const double milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    for (ModelOutputs& out : outputs) out.forwardMilliseconds = milliseconds / count;
    return outputs;
}

void VitModel::saveSafetensors(const std::string& path, const std::map<std::string, std::string>& metadata) const {
    std::vector<TensorData> tensors;
    VitWeights copy = m_weights;
    for (auto& [name, tensor] : copy.namedTensors()) tensors.push_back(toTensorData(name, *tensor));
    writeSafetensors(path, tensors, metadata);
}

}  // namespace fovea
