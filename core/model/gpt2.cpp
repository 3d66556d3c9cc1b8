#include "core/model/gpt2.h"

#include "core/model/registry.h"
#include "core/model/text_transformer.h"
#include "core/model/torch_tensors.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>

namespace fovea {

std::vector<std::pair<std::string, at::Tensor*>> Gpt2Weights::namedTensors() {
    std::vector<std::pair<std::string, at::Tensor*>> out;
    auto add = [&](const std::string& name, at::Tensor& tensor) {
        if (tensor.defined()) out.emplace_back(name, &tensor);
    };
    add("transformer.wte.weight", tokenEmbedding);
    add("transformer.wpe.weight", positionEmbedding);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const std::string p = "transformer.h." + std::to_string(i) + ".";
        VitBlockWeights& b = blocks[i];
        add(p + "ln_1.weight", b.norm1Weight);
        add(p + "ln_1.bias", b.norm1Bias);
        add(p + "attn.c_attn.weight", b.qkvWeight);
        add(p + "attn.c_attn.bias", b.qkvBias);
        add(p + "attn.c_proj.weight", b.projWeight);
        add(p + "attn.c_proj.bias", b.projBias);
        add(p + "ln_2.weight", b.norm2Weight);
        add(p + "ln_2.bias", b.norm2Bias);
        add(p + "mlp.c_fc.weight", b.fc1Weight);
        add(p + "mlp.c_fc.bias", b.fc1Bias);
        add(p + "mlp.c_proj.weight", b.fc2Weight);
        add(p + "mlp.c_proj.bias", b.fc2Bias);
    }
    add("transformer.ln_f.weight", finalNormWeight);
    add("transformer.ln_f.bias", finalNormBias);
    add("lm_head.weight", lmHead);
    return out;
}

ModelSpec gpt2Spec(int vocab, int context, int width, int layers, int heads) {
    ModelSpec spec;
    spec.family = "gpt2";
    spec.layout = "huggingface";
    spec.architecture = "GPT2LMHeadModel";
    spec.modality = "text";
    spec.task = "causal-lm";
    spec.causal = true;
    spec.vocabSize = vocab;
    spec.contextLength = context;
    spec.embedDim = width;
    spec.depth = layers;
    spec.numHeads = heads;
    spec.mlpHidden = 4 * width;
    spec.activation = "gelu_tanh";
    spec.layerNormEps = 1e-5;
    spec.numClasses = 0;
    return spec;
}

Gpt2Weights initializeGpt2Weights(const ModelSpec& spec, std::uint64_t seed) {
    torch::NoGradGuard noGrad;
    at::manual_seed(seed);
    const int64_t d = spec.embedDim;
    auto normal = [](std::vector<int64_t> shape, double std) { return at::randn(shape) * std; };
    const double residual = 0.02 / std::sqrt(2.0 * spec.depth);
    Gpt2Weights w;
    w.tokenEmbedding = normal({spec.vocabSize, d}, 0.02);
    w.positionEmbedding = normal({spec.contextLength, d}, 0.01);
    for (int i = 0; i < spec.depth; ++i) {
        VitBlockWeights b;
        b.norm1Weight = at::ones({d});
        b.norm1Bias = at::zeros({d});
        b.qkvWeight = normal({3 * d, d}, 0.02);
        b.qkvBias = at::zeros({3 * d});
        b.projWeight = normal({d, d}, residual);
        b.projBias = at::zeros({d});
        b.norm2Weight = at::ones({d});
        b.norm2Bias = at::zeros({d});
        b.fc1Weight = normal({spec.mlpHidden, d}, 0.02);
        b.fc1Bias = at::zeros({spec.mlpHidden});
        b.fc2Weight = normal({d, spec.mlpHidden}, residual);
        b.fc2Bias = at::zeros({d});
        w.blocks.push_back(b);
    }
    w.finalNormWeight = at::ones({d});
    w.finalNormBias = at::zeros({d});
    return w;
}

Gpt2Model::Gpt2Model(ModelSpec spec, Gpt2Weights weights, const std::string& device)
    : m_spec(std::move(spec)), m_weights(std::move(weights)), m_device(device) {
    const at::Device target(device);
    int64_t count = 0;
    for (auto& [name, tensor] : m_weights.namedTensors()) {
        *tensor = tensor->to(target);
        count += tensor->numel();
    }
    m_spec.parameterCount = count;
}

ModelOutputs Gpt2Model::run(const ImageInput& input, const CaptureRequest&) {
    throw Error(input.source.empty() ? m_spec.sourcePath : input.source,
                m_spec.architecture + " takes text (token ids), not images");
}

ModelOutputs Gpt2Model::runText(const TextInput& input, const CaptureRequest& request) {
    return runTextModel(*this, m_spec, input, request, m_spec.depth, m_spec.numHeads, m_spec.embedDim, true);
}

at::Tensor Gpt2Model::tokenEmbeddings(const TextInput& input) {
    return at::embedding(m_weights.tokenEmbedding, tokenTensor(input.ids, device()));
}

at::Tensor Gpt2Model::forwardEmbeddings(const at::Tensor& tokens, const at::Tensor& allowed, ForwardCapture* capture,
                                        at::Tensor* hidden) {
    const int64_t n = tokens.size(1);
    at::Tensor x = tokens + m_weights.positionEmbedding.narrow(0, 0, n).unsqueeze(0);
    TransformerStackOptions options;
    options.heads = m_spec.numHeads;
    options.layerNormEps = m_spec.layerNormEps;
    options.activation = m_spec.activation;
    options.preNorm = true;
    x = runTransformerStack(x, m_weights.blocks, options, allowed, capture, &m_headScales.values());
    x = at::layer_norm(x, {m_spec.embedDim}, m_weights.finalNormWeight, m_weights.finalNormBias, m_spec.layerNormEps);
    if (hidden) *hidden = x;
    return at::linear(x, m_weights.lmHead.defined() ? m_weights.lmHead : m_weights.tokenEmbedding);
}

at::Tensor Gpt2Model::outputsFromEmbeddings(const at::Tensor& embeddings, const TextInput& input, ForwardCapture* capture,
                                            at::Tensor* hidden) {
    return forwardEmbeddings(embeddings, attentionAllowed(input, true, device()), capture, hidden);
}

at::Tensor Gpt2Model::logitsForIds(const at::Tensor& ids, ForwardCapture* capture) {
    const int64_t n = ids.size(1);
    if (n > m_spec.contextLength) {
        throw Error(m_spec.architecture, "sequence of " + std::to_string(n) + " tokens exceeds the context " +
                                             std::to_string(m_spec.contextLength));
    }
    const at::Tensor allowed = at::tril(at::ones({n, n}, at::kBool)).reshape({1, 1, n, n}).to(ids.device());
    return forwardEmbeddings(at::embedding(m_weights.tokenEmbedding, ids), allowed, capture, nullptr);
}

void Gpt2Model::setHeadScales(const HeadScales& scales) {
    m_headScales = keptHeadScales(scales, m_spec.depth, m_spec.numHeads, m_spec.architecture);
}

HeadScales Gpt2Model::headScales() const {
    return m_headScales.empty() ? HeadScales::identity(m_spec.depth, m_spec.numHeads) : m_headScales;
}

void Gpt2Model::saveSafetensors(const std::string& path, const std::map<std::string, std::string>& metadata) const {
    std::vector<TensorData> tensors;
    Gpt2Weights copy = m_weights;
    for (auto& [name, tensor] : copy.namedTensors()) {
        // Conv1D stores [in, out]: the transpose of a Linear weight.
        const bool conv1d = name.find(".attn.c_") != std::string::npos || name.find(".mlp.c_") != std::string::npos;
        const at::Tensor stored = conv1d && tensor->dim() == 2 ? tensor->t().contiguous() : *tensor;
        tensors.push_back(toTensorData(name, stored));
    }
    writeSafetensors(path, tensors, metadata);
}

namespace {

template <typename T>
T configValue(const nlohmann::json& object, const char* key, T fallback) {
    if (object.is_object() && object.contains(key) && !object[key].is_null()) return object[key].get<T>();
    return fallback;
}

// The config must agree with the tensors; a contradiction names the file and the field.
void expectConfig(const ModelSource& source, const char* field, int64_t configured, int64_t inTensors, const std::string& tensor) {
    if (configured != inTensors) {
        throw Error(source.folder + "/config.json", "field '" + std::string(field) + "' is " + std::to_string(configured) +
                                                        " but tensor '" + tensor + "' says " + std::to_string(inTensors));
    }
}

class Gpt2Family final : public ModelFamily {
public:
    std::string name() const override { return "gpt2 (Hugging Face GPT2LMHeadModel / GPT2Model)"; }
    bool match(const ModelSource& source) const override {
        return source.hasTensor("transformer.wte.weight") || source.hasTensor("wte.weight");
    }
    std::unique_ptr<Model> open(const ModelSource& source, const RuntimeOptions& options) const override {
        const std::string p = source.hasTensor("transformer.wte.weight") ? "transformer." : "";
        const nlohmann::json& config = source.config;
        const std::vector<int64_t> wte = source.weights->at(p + "wte.weight").shape;
        const std::vector<int64_t> wpe = source.weights->at(p + "wpe.weight").shape;
        int layers = 0;
        while (source.hasTensor(p + "h." + std::to_string(layers) + ".attn.c_attn.weight")) ++layers;
        if (layers == 0) throw Error(source.weightsPath, "no GPT-2 blocks found (expected '" + p + "h.0.attn.c_attn.weight')");
        if (wte.size() != 2 || wpe.size() != 2) throw Error(source.weightsPath, "wte / wpe are not 2-D embedding tables");
        ModelSpec spec = gpt2Spec(int(wte[0]), int(wpe[0]), int(wte[1]), layers, 0);
        spec.sourcePath = source.path;
        spec.weightsPath = source.weightsPath;
        spec.architecture = p.empty() ? "GPT2Model" : "GPT2LMHeadModel";
        if (!config.is_object()) {
            throw Error(source.folder, "GPT-2 weights need the config.json that transformers writes next to them "
                                       "(the number of heads cannot be read off the tensors)");
        }
        if (config.contains("architectures") && !config["architectures"].empty()) {
            spec.architecture = config["architectures"][0].get<std::string>();
        }
        const std::string type = configValue<std::string>(config, "model_type", "gpt2");
        if (type != "gpt2") throw Error(source.folder + "/config.json", "model_type '" + type + "' is not gpt2");
        spec.numHeads = configValue<int>(config, "n_head", 0);
        if (spec.numHeads <= 0 || spec.embedDim % spec.numHeads != 0) {
            throw Error(source.folder + "/config.json", "field 'n_head' must divide n_embd " + std::to_string(spec.embedDim));
        }
        expectConfig(source, "vocab_size", configValue<int>(config, "vocab_size", spec.vocabSize), spec.vocabSize, p + "wte.weight");
        expectConfig(source, "n_embd", configValue<int>(config, "n_embd", spec.embedDim), spec.embedDim, p + "wte.weight");
        expectConfig(source, "n_layer", configValue<int>(config, "n_layer", layers), layers, p + "h.N.*");
        expectConfig(source, "n_positions", configValue<int>(config, "n_positions", spec.contextLength), spec.contextLength,
                     p + "wpe.weight");
        const std::vector<int64_t> fc = source.weights->at(p + "h.0.mlp.c_fc.weight").shape;
        spec.mlpHidden = int(fc.size() == 2 ? fc[1] : 0);
        expectConfig(source, "n_inner", configValue<int>(config, "n_inner", spec.mlpHidden), spec.mlpHidden, p + "h.0.mlp.c_fc.weight");
        spec.layerNormEps = configValue<double>(config, "layer_norm_epsilon", 1e-5);
        const std::string activation = configValue<std::string>(config, "activation_function", "gelu_new");
        if (activation == "gelu_new" || activation == "gelu_pytorch_tanh") spec.activation = "gelu_tanh";
        else if (activation == "gelu") spec.activation = "gelu";
        else throw Error(source.folder + "/config.json", "activation_function '" + activation + "' is not supported (gelu_new, gelu)");
        if (configValue<bool>(config, "scale_attn_by_inverse_layer_idx", false) || !configValue<bool>(config, "scale_attn_weights", true)) {
            throw Error(source.folder + "/config.json", "scale_attn_by_inverse_layer_idx / scale_attn_weights other than GPT-2's "
                                                        "defaults are not supported");
        }
        for (const char* key : {"bos_token_id", "eos_token_id"}) {
            if (config.contains(key) && config[key].is_number_integer()) spec.specialTokens[config[key].get<long long>()] = "<|endoftext|>";
        }

        TensorTaker taker(*source.weights, "this GPT-2 variant");
        Gpt2Weights w;
        const int64_t d = spec.embedDim;
        w.tokenEmbedding = taker.take(p + "wte.weight");
        w.positionEmbedding = taker.take(p + "wpe.weight");
        auto conv = [&](const std::string& name, int64_t in, int64_t out) {
            const at::Tensor stored = taker.take(name);
            expectShape(source.weightsPath, name, stored, {in, out});
            return stored.t().contiguous();
        };
        for (int i = 0; i < layers; ++i) {
            const std::string b = p + "h." + std::to_string(i) + ".";
            VitBlockWeights block;
            block.norm1Weight = taker.take(b + "ln_1.weight");
            block.norm1Bias = taker.take(b + "ln_1.bias");
            block.qkvWeight = conv(b + "attn.c_attn.weight", d, 3 * d);
            block.qkvBias = taker.take(b + "attn.c_attn.bias");
            block.projWeight = conv(b + "attn.c_proj.weight", d, d);
            block.projBias = taker.take(b + "attn.c_proj.bias");
            block.norm2Weight = taker.take(b + "ln_2.weight");
            block.norm2Bias = taker.take(b + "ln_2.bias");
            block.fc1Weight = conv(b + "mlp.c_fc.weight", d, spec.mlpHidden);
            block.fc1Bias = taker.take(b + "mlp.c_fc.bias");
            block.fc2Weight = conv(b + "mlp.c_proj.weight", spec.mlpHidden, d);
            block.fc2Bias = taker.take(b + "mlp.c_proj.bias");
            // Older checkpoints store the causal mask buffers; they carry no weights.
            taker.ignore(b + "attn.bias");
            taker.ignore(b + "attn.masked_bias");
            w.blocks.push_back(block);
        }
        w.finalNormWeight = taker.take(p + "ln_f.weight");
        w.finalNormBias = taker.take(p + "ln_f.bias");
        if (taker.has("lm_head.weight")) {
            w.lmHead = taker.take("lm_head.weight");
            expectShape(source.weightsPath, "lm_head.weight", w.lmHead, {spec.vocabSize, d});
            // A stored head equal to the embeddings is the tied head saved twice.
            if (at::equal(w.lmHead, w.tokenEmbedding)) w.lmHead = at::Tensor();
        }
        taker.expectAllUsed();
        return std::make_unique<Gpt2Model>(std::move(spec), std::move(w), resolveDevice(options.device));
    }
};

}  // namespace

std::unique_ptr<ModelFamily> makeGpt2Family() { return std::make_unique<Gpt2Family>(); }

}  // namespace fovea
