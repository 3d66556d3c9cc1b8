// The native LibTorch BERT (Hugging Face BertModel, BertForSequenceClassification,
// BertForMaskedLM): word + position + token-type embeddings and a LayerNorm, post-LayerNorm
// blocks with bidirectional attention (padding keys masked, padded query rows still computed,
// as transformers does), exact GELU, and the task head: the tanh pooler on [CLS] and a
// classifier, or the masked-LM transform tied to the word embeddings.
//
// Reference: Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for
// Language Understanding" (NAACL 2019).
#include "core/model/differentiable_text.h"
#include "core/model/registry.h"
#include "core/model/text_transformer.h"
#include "core/model/torch_tensors.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fovea {

namespace {

struct BertWeights {
    at::Tensor wordEmbedding, positionEmbedding, typeEmbedding;
    at::Tensor embedNormWeight, embedNormBias;
    std::vector<VitBlockWeights> blocks;  // norm1: attention.output.LayerNorm, norm2: output.LayerNorm
    at::Tensor poolerWeight, poolerBias;
    at::Tensor classifierWeight, classifierBias;
    // Masked-LM head: transform (dense, activation, LayerNorm), then the tied decoder + bias.
    at::Tensor mlmDenseWeight, mlmDenseBias, mlmNormWeight, mlmNormBias, mlmDecoder, mlmBias;

    std::vector<at::Tensor*> all() {
        std::vector<at::Tensor*> out = {&wordEmbedding, &positionEmbedding, &typeEmbedding, &embedNormWeight, &embedNormBias,
                                        &poolerWeight,  &poolerBias,        &classifierWeight, &classifierBias, &mlmDenseWeight,
                                        &mlmDenseBias,  &mlmNormWeight,     &mlmNormBias,   &mlmDecoder,      &mlmBias};
        for (VitBlockWeights& b : blocks) {
            for (at::Tensor* t : {&b.norm1Weight, &b.norm1Bias, &b.qkvWeight, &b.qkvBias, &b.projWeight, &b.projBias, &b.norm2Weight,
                                  &b.norm2Bias, &b.fc1Weight, &b.fc1Bias, &b.fc2Weight, &b.fc2Bias}) {
                out.push_back(t);
            }
        }
        return out;
    }
};

class BertModel final : public Model, public DifferentiableTextModel {
public:
    BertModel(ModelSpec spec, BertWeights weights, const std::string& device)
        : m_spec(std::move(spec)), m_weights(std::move(weights)), m_device(device) {
        int64_t count = 0;
        for (at::Tensor* tensor : m_weights.all()) {
            if (!tensor->defined()) continue;
            *tensor = tensor->to(at::Device(device));
            count += tensor->numel();
        }
        m_spec.parameterCount = count;
    }

    const ModelSpec& spec() const override { return m_spec; }
    bool accepts(InputKind kind) const override { return kind == InputKind::Text; }
    TokenLayout tokenLayout(int, int) const override { return {}; }
    ModelOutputs run(const ImageInput& input, const CaptureRequest&) override {
        throw Error(input.source.empty() ? m_spec.sourcePath : input.source, m_spec.architecture + " takes text (token ids), not images");
    }
    ModelOutputs runText(const TextInput& input, const CaptureRequest& request) override {
        return runTextModel(*this, m_spec, input, request, m_spec.depth, m_spec.numHeads, m_spec.embedDim, false);
    }
    std::string deviceName() const override { return m_device; }
    DifferentiableTextModel* differentiableText() override { return this; }
    c10::Device device() const override { return c10::Device(m_device); }

    at::Tensor tokenEmbeddings(const TextInput& input) override {
        return at::embedding(m_weights.wordEmbedding, tokenTensor(input.ids, device()));
    }

    at::Tensor outputsFromEmbeddings(const at::Tensor& words, const TextInput& input, ForwardCapture* capture,
                                     at::Tensor* hidden) override {
        const int64_t n = words.size(1), d = m_spec.embedDim;
        const double eps = m_spec.layerNormEps;
        const std::vector<std::int64_t> types = input.tokenTypes.empty() ? std::vector<std::int64_t>(std::size_t(n), 0) : input.tokenTypes;
        at::Tensor x = words + m_weights.positionEmbedding.narrow(0, 0, n).unsqueeze(0) +
                       at::embedding(m_weights.typeEmbedding, tokenTensor(types, device()));
        x = at::layer_norm(x, {d}, m_weights.embedNormWeight, m_weights.embedNormBias, eps);
        TransformerStackOptions options;
        options.heads = m_spec.numHeads;
        options.layerNormEps = eps;
        options.activation = m_spec.activation;
        options.preNorm = false;
        x = runTransformerStack(x, m_weights.blocks, options, attentionAllowed(input, false, device()), capture, &m_headScales.values());
        if (hidden) *hidden = x;
        if (m_spec.task == "masked-lm") {
            at::Tensor t = applyActivation(at::linear(x, m_weights.mlmDenseWeight, m_weights.mlmDenseBias), m_spec.activation);
            t = at::layer_norm(t, {d}, m_weights.mlmNormWeight, m_weights.mlmNormBias, eps);
            return at::linear(t, m_weights.mlmDecoder.defined() ? m_weights.mlmDecoder : m_weights.wordEmbedding, m_weights.mlmBias);
        }
        at::Tensor pooled = x.select(1, 0);
        if (m_weights.poolerWeight.defined()) pooled = at::tanh(at::linear(pooled, m_weights.poolerWeight, m_weights.poolerBias));
        if (m_spec.task == "sequence-classification") return at::linear(pooled, m_weights.classifierWeight, m_weights.classifierBias);
        return pooled;
    }

    void setHeadScales(const HeadScales& scales) override {
        m_headScales = keptHeadScales(scales, m_spec.depth, m_spec.numHeads, m_spec.architecture);
    }
    HeadScales headScales() const override {
        return m_headScales.empty() ? HeadScales::identity(m_spec.depth, m_spec.numHeads) : m_headScales;
    }
    void resetHeadScales() override { m_headScales = HeadScales{}; }

private:
    ModelSpec m_spec;
    BertWeights m_weights;
    std::string m_device;
    HeadScales m_headScales;  // empty: no intervention
};

template <typename T>
T configValue(const nlohmann::json& object, const char* key, T fallback) {
    if (object.is_object() && object.contains(key) && !object[key].is_null()) return object[key].get<T>();
    return fallback;
}

void expectConfig(const ModelSource& source, const char* field, int64_t configured, int64_t inTensors, const std::string& tensor) {
    if (configured != inTensors) {
        throw Error(source.folder + "/config.json", "field '" + std::string(field) + "' is " + std::to_string(configured) +
                                                        " but tensor '" + tensor + "' says " + std::to_string(inTensors));
    }
}

// The special tokens' ids from vocab.txt when the folder has one (the tokenizer reads it in
// full; the model only needs to know which ids are [CLS], [SEP], [PAD], [MASK]).
void readSpecialTokens(const ModelSource& source, ModelSpec& spec) {
    const std::filesystem::path vocab = std::filesystem::path(source.folder) / "vocab.txt";
    std::ifstream in(vocab);
    if (!in) return;
    std::string line;
    for (long long id = 0; std::getline(in, line); ++id) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == "[CLS]" || line == "[SEP]" || line == "[PAD]" || line == "[MASK]" || line == "[UNK]") spec.specialTokens[id] = line;
    }
}

class BertFamily final : public ModelFamily {
public:
    std::string name() const override { return "bert (Hugging Face BertModel / BertForSequenceClassification / BertForMaskedLM)"; }
    bool match(const ModelSource& source) const override {
        return source.hasTensor("bert.embeddings.word_embeddings.weight") || source.hasTensor("embeddings.word_embeddings.weight");
    }
    std::unique_ptr<Model> open(const ModelSource& source, const RuntimeOptions& options) const override {
        const std::string p = source.hasTensor("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        const nlohmann::json& config = source.config;
        if (!config.is_object()) {
            throw Error(source.folder, "BERT weights need the config.json that transformers writes next to them "
                                       "(the number of heads cannot be read off the tensors)");
        }
        const std::string type = configValue<std::string>(config, "model_type", "bert");
        if (type != "bert") throw Error(source.folder + "/config.json", "model_type '" + type + "' is not bert");
        ModelSpec spec;
        spec.family = "bert";
        spec.layout = "huggingface";
        spec.modality = "text";
        spec.sourcePath = source.path;
        spec.weightsPath = source.weightsPath;
        const std::vector<int64_t> words = source.weights->at(p + "embeddings.word_embeddings.weight").shape;
        spec.vocabSize = int(words[0]);
        spec.embedDim = int(words[1]);
        spec.contextLength = int(source.weights->at(p + "embeddings.position_embeddings.weight").shape[0]);
        spec.typeVocabSize = int(source.weights->at(p + "embeddings.token_type_embeddings.weight").shape[0]);
        spec.depth = 0;
        while (source.hasTensor(p + "encoder.layer." + std::to_string(spec.depth) + ".attention.self.query.weight")) ++spec.depth;
        if (spec.depth == 0) throw Error(source.weightsPath, "no BERT layers found");
        spec.mlpHidden = int(source.weights->at(p + "encoder.layer.0.intermediate.dense.weight").shape[0]);
        expectConfig(source, "vocab_size", configValue<int>(config, "vocab_size", spec.vocabSize), spec.vocabSize, p + "embeddings.word_embeddings.weight");
        expectConfig(source, "hidden_size", configValue<int>(config, "hidden_size", spec.embedDim), spec.embedDim, p + "embeddings.word_embeddings.weight");
        expectConfig(source, "num_hidden_layers", configValue<int>(config, "num_hidden_layers", spec.depth), spec.depth, p + "encoder.layer.N.*");
        expectConfig(source, "intermediate_size", configValue<int>(config, "intermediate_size", spec.mlpHidden), spec.mlpHidden,
                     p + "encoder.layer.0.intermediate.dense.weight");
        expectConfig(source, "max_position_embeddings", configValue<int>(config, "max_position_embeddings", spec.contextLength),
                     spec.contextLength, p + "embeddings.position_embeddings.weight");
        expectConfig(source, "type_vocab_size", configValue<int>(config, "type_vocab_size", spec.typeVocabSize), spec.typeVocabSize,
                     p + "embeddings.token_type_embeddings.weight");
        spec.numHeads = configValue<int>(config, "num_attention_heads", 0);
        if (spec.numHeads <= 0 || spec.embedDim % spec.numHeads != 0) {
            throw Error(source.folder + "/config.json", "field 'num_attention_heads' must divide hidden_size " + std::to_string(spec.embedDim));
        }
        spec.layerNormEps = configValue<double>(config, "layer_norm_eps", 1e-12);
        const std::string activation = configValue<std::string>(config, "hidden_act", "gelu");
        if (activation == "gelu") spec.activation = "gelu";
        else if (activation == "gelu_new" || activation == "gelu_pytorch_tanh") spec.activation = "gelu_tanh";
        else throw Error(source.folder + "/config.json", "hidden_act '" + activation + "' is not supported (gelu, gelu_new)");
        const std::string positions = configValue<std::string>(config, "position_embedding_type", "absolute");
        if (positions != "absolute") throw Error(source.folder + "/config.json", "position_embedding_type '" + positions + "' is not supported (absolute)");
        if (config.contains("pad_token_id") && config["pad_token_id"].is_number_integer()) spec.specialTokens[config["pad_token_id"].get<long long>()] = "[PAD]";
        readSpecialTokens(source, spec);

        if (source.hasTensor("classifier.weight")) {
            spec.task = "sequence-classification";
            spec.architecture = "BertForSequenceClassification";
            spec.numClasses = int(source.weights->at("classifier.weight").shape[0]);
        } else if (source.hasTensor("cls.predictions.transform.dense.weight")) {
            spec.task = "masked-lm";
            spec.architecture = "BertForMaskedLM";
        } else {
            spec.task = "features";
            spec.architecture = "BertModel";
        }
        if (config.contains("architectures") && !config["architectures"].empty()) spec.architecture = config["architectures"][0].get<std::string>();
        if (config.contains("id2label") && spec.numClasses > 0) {
            spec.labels.assign(std::size_t(spec.numClasses), std::string());
            for (auto& [key, value] : config["id2label"].items()) {
                const int index = std::stoi(key);
                if (index >= 0 && index < spec.numClasses) spec.labels[std::size_t(index)] = value.get<std::string>();
            }
        }

        TensorTaker taker(*source.weights, "this BERT variant");
        BertWeights w;
        const std::string e = p + "embeddings.";
        w.wordEmbedding = taker.take(e + "word_embeddings.weight");
        w.positionEmbedding = taker.take(e + "position_embeddings.weight");
        w.typeEmbedding = taker.take(e + "token_type_embeddings.weight");
        w.embedNormWeight = taker.take(e + "LayerNorm.weight");
        w.embedNormBias = taker.take(e + "LayerNorm.bias");
        taker.ignore(e + "position_ids");  // a buffer (arange), not a weight
        taker.ignore(e + "token_type_ids");
        for (int i = 0; i < spec.depth; ++i) {
            const std::string l = p + "encoder.layer." + std::to_string(i) + ".";
            const std::string a = l + "attention.self.";
            VitBlockWeights b;
            b.qkvWeight = at::cat({taker.take(a + "query.weight"), taker.take(a + "key.weight"), taker.take(a + "value.weight")}, 0);
            b.qkvBias = at::cat({taker.take(a + "query.bias"), taker.take(a + "key.bias"), taker.take(a + "value.bias")}, 0);
            expectShape(source.weightsPath, a + "query/key/value.weight", b.qkvWeight, {3 * int64_t(spec.embedDim), spec.embedDim});
            b.projWeight = taker.take(l + "attention.output.dense.weight");
            b.projBias = taker.take(l + "attention.output.dense.bias");
            b.norm1Weight = taker.take(l + "attention.output.LayerNorm.weight");
            b.norm1Bias = taker.take(l + "attention.output.LayerNorm.bias");
            b.fc1Weight = taker.take(l + "intermediate.dense.weight");
            b.fc1Bias = taker.take(l + "intermediate.dense.bias");
            b.fc2Weight = taker.take(l + "output.dense.weight");
            b.fc2Bias = taker.take(l + "output.dense.bias");
            b.norm2Weight = taker.take(l + "output.LayerNorm.weight");
            b.norm2Bias = taker.take(l + "output.LayerNorm.bias");
            w.blocks.push_back(b);
        }
        w.poolerWeight = taker.takeIfPresent(p + "pooler.dense.weight");
        w.poolerBias = taker.takeIfPresent(p + "pooler.dense.bias");
        w.classifierWeight = taker.takeIfPresent("classifier.weight");
        w.classifierBias = taker.takeIfPresent("classifier.bias");
        if (spec.task == "sequence-classification" && !w.poolerWeight.defined()) {
            throw Error(source.weightsPath, "BertForSequenceClassification without '" + p + "pooler.dense.weight'");
        }
        if (spec.task == "masked-lm") {
            const std::string m = "cls.predictions.";
            w.mlmDenseWeight = taker.take(m + "transform.dense.weight");
            w.mlmDenseBias = taker.take(m + "transform.dense.bias");
            w.mlmNormWeight = taker.take(m + "transform.LayerNorm.weight");
            w.mlmNormBias = taker.take(m + "transform.LayerNorm.bias");
            w.mlmBias = taker.take(m + "bias");
            w.mlmDecoder = taker.takeIfPresent(m + "decoder.weight");
            if (w.mlmDecoder.defined() && at::equal(w.mlmDecoder, w.wordEmbedding)) w.mlmDecoder = at::Tensor();
            taker.ignore(m + "decoder.bias");  // the same tensor as cls.predictions.bias
            spec.numClasses = 0;
        }
        taker.expectAllUsed();
        return std::make_unique<BertModel>(std::move(spec), std::move(w), resolveDevice(options.device));
    }
};

}  // namespace

std::unique_ptr<ModelFamily> makeBertFamily() { return std::make_unique<BertFamily>(); }

}  // namespace fovea
