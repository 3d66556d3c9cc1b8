#include "core/model/clip.h"

#include "core/model/text_transformer.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

namespace fovea {

ClipModel::ClipModel(ModelSpec spec, ModelSpec visionSpec, VitWeights vision, ClipTextWeights text, const std::string& device)
    : m_spec(std::move(spec)), m_text(std::move(text)), m_device(device) {
    m_vision = std::make_unique<VitModel>(std::move(visionSpec), std::move(vision), device);
    const at::Device target(device);
    int64_t count = m_vision->spec().parameterCount;
    std::vector<at::Tensor*> tensors = {&m_text.tokenEmbedding, &m_text.positionEmbedding, &m_text.finalNormWeight,
                                        &m_text.finalNormBias, &m_text.projection, &m_text.logitScale};
    for (VitBlockWeights& b : m_text.blocks) {
        for (at::Tensor* t : {&b.norm1Weight, &b.norm1Bias, &b.qkvWeight, &b.qkvBias, &b.projWeight, &b.projBias, &b.norm2Weight,
                              &b.norm2Bias, &b.fc1Weight, &b.fc1Bias, &b.fc2Weight, &b.fc2Bias}) {
            tensors.push_back(t);
        }
    }
    for (at::Tensor* t : tensors) {
        *t = t->to(target);
        count += t->numel();
    }
    m_spec.parameterCount = count;
}

int ClipModel::poolingPosition(const TextInput& input) const {
    long long eos = -1;
    for (const auto& [id, name] : m_spec.specialTokens) {
        if (name == "<|endoftext|>") eos = id;
    }
    for (int i = 0; i < input.size(); ++i) {
        if (input.ids[std::size_t(i)] == eos) return i;
    }
    return int(std::max_element(input.ids.begin(), input.ids.end()) - input.ids.begin());
}

at::Tensor ClipModel::tokenEmbeddings(const TextInput& input) {
    return at::embedding(m_text.tokenEmbedding, tokenTensor(input.ids, device()));
}

at::Tensor ClipModel::outputsFromEmbeddings(const at::Tensor& embeddings, const TextInput& input, ForwardCapture* capture,
                                            at::Tensor* hidden) {
    const int64_t n = embeddings.size(1), d = m_spec.textEmbedDim;
    at::Tensor x = embeddings + m_text.positionEmbedding.narrow(0, 0, n).unsqueeze(0);
    TransformerStackOptions options;
    options.heads = m_spec.textHeads;
    options.layerNormEps = m_spec.layerNormEps;
    options.activation = m_spec.activation;
    options.preNorm = true;
    x = runTransformerStack(x, m_text.blocks, options, attentionAllowed(input, true, device()), capture, &m_textHeadScales.values());
    x = at::layer_norm(x, {d}, m_text.finalNormWeight, m_text.finalNormBias, m_spec.layerNormEps);
    if (hidden) *hidden = x;
    return at::linear(x.select(1, poolingPosition(input)), m_text.projection);
}

at::Tensor ClipModel::similarity(const at::Tensor& imageEmbeds, const at::Tensor& textEmbeds) const {
    const at::Tensor image = imageEmbeds / imageEmbeds.norm(2, -1, true);
    const at::Tensor text = textEmbeds / textEmbeds.norm(2, -1, true);
    return m_text.logitScale.exp() * (image * text).sum(-1);
}

void ClipModel::setTextHeadScales(const HeadScales& scales) {
    m_textHeadScales = keptHeadScales(scales, m_spec.textDepth, m_spec.textHeads, m_spec.architecture + " (text tower)");
}

HeadScales ClipModel::textHeadScales() const {
    return m_textHeadScales.empty() ? HeadScales::identity(m_spec.textDepth, m_spec.textHeads) : m_textHeadScales;
}

void ClipModel::resetHeadScales() {
    m_vision->resetHeadScales();
    m_textHeadScales = HeadScales{};
}

ModelOutputs ClipModel::run(const ImageInput& input, const CaptureRequest& request) {
    ModelOutputs out = m_vision->run(input, request);
    out.imageEmbeds = out.logits;
    return out;
}

ModelOutputs ClipModel::runText(const TextInput& input, const CaptureRequest& request) {
    ModelSpec textSpec = m_spec;
    ModelOutputs out = runTextModel(*this, textSpec, input, request, m_spec.textDepth, m_spec.textHeads, m_spec.textEmbedDim, true);
    out.textAttention = std::move(out.attention);
    out.attention = AttentionStack();
    out.textEmbeds = out.logits;
    return out;
}

namespace {

void storeStack(AttentionStack& stack, const ForwardCapture& capture, const std::vector<int>& layers, const std::vector<int>& heads,
                const CaptureRequest& request, int headDim) {
    for (int l : layers) {
        AttentionLayer stored = storeAttentionLayer(l, capture.attention[std::size_t(l)], heads, request.precision, request.gradients);
        stored.headDim = headDim;
        if (request.keys) stored.keys = storeTokenVectors(capture.keys[std::size_t(l)]);
        if (request.queries) stored.queries = storeTokenVectors(capture.queries[std::size_t(l)]);
        stack.layers.push_back(std::move(stored));
    }
}

ForwardCapture captureFor(const CaptureRequest& request, int depth, const std::vector<int>& layers) {
    ForwardCapture capture;
    capture.layers.assign(std::size_t(depth), false);
    for (int l : layers) capture.layers[std::size_t(l)] = true;
    capture.retainGradients = request.gradients;
    capture.keepKeys = request.keys;
    capture.keepQueries = request.queries;
    return capture;
}

}  // namespace

ModelOutputs ClipModel::runImageText(const ImageInput& image, const TextInput& given, const CaptureRequest& request) {
    TextInput text = given;
    fitTextInput(text, m_spec, ContextOverflow::Refuse);
    const ModelSpec& vision = m_vision->spec();
    if (image.pixels.size() != std::size_t(vision.channels) * image.height * image.width || image.height % vision.patchSize != 0 ||
        image.width % vision.patchSize != 0 || image.height <= 0) {
        throw Error(image.source.empty() ? "image input" : image.source, "does not fit the vision tower (patch size " +
                                                                            std::to_string(vision.patchSize) + ")");
    }
    const TokenLayout imageTokens = m_vision->tokenLayout(image.height, image.width);
    const std::vector<int> visionLayers = request.resolvedLayers(vision.depth);
    const std::vector<int> visionHeads = request.resolvedHeads(vision.numHeads);
    const std::vector<int> textLayers = request.resolvedLayers(m_spec.textDepth);
    const std::vector<int> textHeads = request.resolvedHeads(m_spec.textHeads);
    if (request.attention) {
        enforceCaptureBudget(request, vision.depth, vision.numHeads, imageTokens.size(), vision.embedDim);
        enforceCaptureBudget(request, m_spec.textDepth, m_spec.textHeads, text.size(), m_spec.textEmbedDim);
    }
    ForwardCapture visionCapture = captureFor(request, vision.depth, visionLayers);
    ForwardCapture textCapture = captureFor(request, m_spec.textDepth, textLayers);

    const auto start = std::chrono::steady_clock::now();
    at::Tensor pixels = torch::from_blob(const_cast<float*>(image.pixels.data()), {1, vision.channels, image.height, image.width}, at::kFloat)
                            .to(device());
    at::Tensor imageEmbeds, textEmbeds, score;
    if (request.gradients) {
        pixels = pixels.clone().requires_grad_(true);
        imageEmbeds = m_vision->forward(pixels, &visionCapture);
        const at::Tensor words = tokenEmbeddings(text).detach().clone().requires_grad_(true);
        textEmbeds = outputsFromEmbeddings(words, text, &textCapture);
        score = similarity(imageEmbeds, textEmbeds);
        score.sum().backward();
    } else {
        c10::InferenceMode inference;
        imageEmbeds = m_vision->forward(pixels, &visionCapture);
        textEmbeds = outputsFromEmbeddings(tokenEmbeddings(text), text, &textCapture);
        score = similarity(imageEmbeds, textEmbeds);
    }
    ModelOutputs out;
    out.imageEmbeds = toFloatVector(imageEmbeds.select(0, 0));
    out.textEmbeds = toFloatVector(textEmbeds.select(0, 0));
    out.similarity = score.select(0, 0).item<float>();
    out.hasSimilarity = true;
    out.logits = {out.similarity};
    out.attention.tokens = imageTokens;
    out.attention.modelLayers = vision.depth;
    out.attention.modelHeads = vision.numHeads;
    storeStack(out.attention, visionCapture, visionLayers, visionHeads, request, vision.embedDim / vision.numHeads);
    out.textAttention.tokens = text.tokens;
    out.textAttention.modelLayers = m_spec.textDepth;
    out.textAttention.modelHeads = m_spec.textHeads;
    out.textAttention.causal = true;
    if (std::find(text.attentionMask.begin(), text.attentionMask.end(), 0) != text.attentionMask.end()) {
        out.textAttention.keyMask.assign(text.attentionMask.begin(), text.attentionMask.end());
    }
    storeStack(out.textAttention, textCapture, textLayers, textHeads, request, m_spec.textEmbedDim / m_spec.textHeads);
    out.notices = text.notices;
    out.forwardMilliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

}  // namespace fovea
