// Loading ViT-family checkpoints in the timm and Hugging Face layouts into VitModel.
//
// Hyper-parameters come from three places, in this order of trust: the tensor shapes (width,
// depth, patch size, classes, MLP width, which tokens exist), config.json (timm `model_args` or
// the Hugging Face fields), and a table of well-known timm architecture names. The number of
// heads cannot be read off any shape, so it must come from the config or the name table.
#include "core/model/registry.h"
#include "core/model/torch_tensors.h"
#include "core/model/vit.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <optional>
#include <sstream>

namespace fovea {

namespace {

// What a well-known timm architecture name implies.
struct KnownVit {
    int embedDim = 0, depth = 0, numHeads = 0, patchSize = 0, imageSize = 0;
    int registerTokens = 0;
    bool distillation = false, layerScale = false, noEmbedClass = false;
};

std::optional<KnownVit> lookUpTimmName(std::string name) {
    name = name.substr(0, name.find('.'));  // drop the pretrained tag (".augreg_in21k")
    std::vector<std::string> parts;
    std::stringstream stream(name);
    for (std::string part; std::getline(stream, part, '_');) parts.push_back(part);
    if (parts.size() < 3) return std::nullopt;
    const std::string& family = parts[0];
    if (family != "vit" && family != "deit" && family != "deit3") return std::nullopt;
    KnownVit known;
    const std::string& size = parts[1];
    if (size == "tiny") known = {192, 12, 3};
    else if (size == "small") known = {384, 12, 6};
    else if (size == "medium") known = {512, 12, 8};
    else if (size == "base") known = {768, 12, 12};
    else if (size == "large") known = {1024, 24, 16};
    else if (size == "huge") known = {1280, 32, 16};
    else return std::nullopt;
    bool dinov2 = false;
    for (std::size_t i = 2; i < parts.size(); ++i) {
        const std::string& part = parts[i];
        if (part.rfind("patch", 0) == 0 && part.size() > 5) {
            known.patchSize = std::atoi(part.c_str() + 5);
        } else if (part == "distilled") {
            known.distillation = true;
        } else if (part.rfind("reg", 0) == 0 && part.size() > 3 && std::isdigit(static_cast<unsigned char>(part[3]))) {
            known.registerTokens = std::atoi(part.c_str() + 3);
        } else if (part == "dinov2") {
            dinov2 = true;
        } else if (!part.empty() && std::isdigit(static_cast<unsigned char>(part[0]))) {
            known.imageSize = std::atoi(part.c_str());
        } else if (part == "clip" || part == "siglip" || part == "gap" || part == "rope" || part == "mae") {
            return std::nullopt;  // different blocks or pooling: not this table's business
        }
    }
    if (known.patchSize <= 0) return std::nullopt;
    if (dinov2) {
        known.imageSize = 518;
        known.layerScale = true;
        known.noEmbedClass = known.registerTokens > 0;
    }
    if (family == "deit3") {
        known.layerScale = true;
        known.noEmbedClass = true;
    }
    if (known.imageSize <= 0) known.imageSize = 224;
    return known;
}

int countBlocks(const ModelSource& source, const std::string& prefix, const std::string& suffix) {
    int depth = 0;
    while (source.hasTensor(prefix + std::to_string(depth) + suffix)) ++depth;
    return depth;
}

template <typename T>
T configValue(const nlohmann::json& object, const char* key, T fallback) {
    if (object.is_object() && object.contains(key) && !object[key].is_null()) return object[key].get<T>();
    return fallback;
}

int squareImageSize(const nlohmann::json& value, int fallback) {
    if (value.is_number_integer()) return value.get<int>();
    if (value.is_array() && value.size() == 2) return value[0].get<int>();
    return fallback;
}

ModelSpec timmSpec(const ModelSource& source) {
    ModelSpec spec;
    spec.family = "vit";
    spec.layout = "timm";
    spec.sourcePath = source.path;
    spec.weightsPath = source.weightsPath;
    const nlohmann::json& config = source.config;
    const nlohmann::json args = config.is_object() && config.contains("model_args") ? config["model_args"] : nlohmann::json::object();
    spec.architecture = configValue<std::string>(config, "architecture", "");

    const std::optional<KnownVit> known = lookUpTimmName(spec.architecture);
    const std::vector<int64_t> patchShape = source.weights->at("patch_embed.proj.weight").shape;
    if (patchShape.size() != 4) throw Error(source.weightsPath, "tensor 'patch_embed.proj.weight' is not a 4-D convolution weight");
    spec.embedDim = int(patchShape[0]);
    spec.channels = int(patchShape[1]);
    spec.patchSize = int(patchShape[2]);
    if (patchShape[2] != patchShape[3]) throw Error(source.weightsPath, "non-square patches are not supported");
    spec.depth = countBlocks(source, "blocks.", ".attn.qkv.weight");
    if (spec.depth == 0) throw Error(source.weightsPath, "no transformer blocks found (expected 'blocks.0.attn.qkv.weight')");
    spec.mlpHidden = int(source.weights->at("blocks.0.mlp.fc1.weight").shape[0]);
    spec.classToken = source.hasTensor("cls_token");
    spec.distillationToken = source.hasTensor("dist_token");
    spec.registerTokens = source.hasTensor("reg_token") ? int(source.weights->at("reg_token").shape[1]) : 0;
    spec.qkvBias = source.hasTensor("blocks.0.attn.qkv.bias");
    spec.layerScale = source.hasTensor("blocks.0.ls1.gamma");
    spec.fcNorm = source.hasTensor("fc_norm.weight");
    spec.numClasses = source.hasTensor("head.weight") ? int(source.weights->at("head.weight").shape[0]) : 0;

    spec.numHeads = configValue<int>(args, "num_heads", known ? known->numHeads : 0);
    if (spec.numHeads <= 0) {
        throw Error(source.weightsPath, "the number of attention heads cannot be inferred from the weights; add "
                                        "\"model_args\": {\"num_heads\": N} to config.json (architecture '" +
                                            spec.architecture + "' is not a well-known timm name)");
    }
    if (spec.embedDim % spec.numHeads != 0) {
        throw Error(source.weightsPath, "width " + std::to_string(spec.embedDim) + " is not divisible by " +
                                            std::to_string(spec.numHeads) + " heads");
    }
    const nlohmann::json pretrained = config.is_object() && config.contains("pretrained_cfg") ? config["pretrained_cfg"] : nlohmann::json();
    int imageSize = known ? known->imageSize : 0;
    if (pretrained.is_object() && pretrained.contains("input_size")) imageSize = pretrained["input_size"][1].get<int>();
    if (args.contains("img_size")) imageSize = squareImageSize(args["img_size"], imageSize);
    spec.noEmbedClass = configValue<bool>(args, "no_embed_class", known ? known->noEmbedClass : false);
    const int64_t positions = source.weights->at("pos_embed").shape[1];
    if (imageSize <= 0) {
        // Assume a square grid: the position embeddings tell its size.
        const int64_t patches = positions - (spec.noEmbedClass ? 0 : spec.prefixTokens());
        int side = 1;
        while (int64_t(side + 1) * (side + 1) <= patches) ++side;
        imageSize = side * spec.patchSize;
    }
    spec.imageHeight = spec.imageWidth = imageSize;
    const int64_t expected = int64_t(spec.gridRows()) * spec.gridCols() + (spec.noEmbedClass ? 0 : spec.prefixTokens());
    if (positions != expected) {
        // no_embed_class is not always in the config; the embedding length settles it.
        const int64_t patchesOnly = int64_t(spec.gridRows()) * spec.gridCols();
        if (positions == patchesOnly && spec.prefixTokens() > 0) spec.noEmbedClass = true;
        else if (positions == patchesOnly + spec.prefixTokens()) spec.noEmbedClass = false;
        else {
            throw Error(source.weightsPath, "tensor 'pos_embed' has " + std::to_string(positions) +
                                                " positions, which fits neither a " + std::to_string(spec.gridRows()) + "x" +
                                                std::to_string(spec.gridCols()) + " grid nor its prefix tokens; set "
                                                "model_args.img_size in config.json");
        }
    }
    spec.pooling = configValue<std::string>(args, "global_pool", configValue<std::string>(config, "global_pool", spec.classToken ? "token" : "avg"));
    if (spec.pooling.empty()) spec.pooling = "token";
    if (spec.pooling != "token" && spec.pooling != "avg") {
        throw Error(source.weightsPath, "global_pool '" + spec.pooling + "' is not supported (token or avg)");
    }
    const std::string activation = configValue<std::string>(args, "act_layer", "gelu");
    if (activation != "gelu") throw Error(source.weightsPath, "activation '" + activation + "' is not supported (exact GELU only)");
    spec.layerNormEps = 1e-6;  // timm's ViT uses LayerNorm(eps=1e-6) throughout

    if (config.is_object() && config.contains("label_names")) spec.labels = config["label_names"].get<std::vector<std::string>>();
    else if (pretrained.is_object() && pretrained.contains("label_names")) spec.labels = pretrained["label_names"].get<std::vector<std::string>>();

    nlohmann::json preprocessing = pretrained.is_object() ? pretrained : nlohmann::json::object();
    if (!preprocessing.contains("input_size")) preprocessing["input_size"] = {spec.channels, spec.imageHeight, spec.imageWidth};
    spec.preprocessing = Preprocessing::fromTimm(preprocessing);
    return spec;
}

VitWeights timmWeights(const ModelSource& source, const ModelSpec& spec) {
    TensorTaker taker(*source.weights, "this ViT variant");
    VitWeights w;
    const int64_t d = spec.embedDim;
    w.patchWeight = taker.take("patch_embed.proj.weight");
    w.patchBias = taker.take("patch_embed.proj.bias");
    w.classToken = taker.takeIfPresent("cls_token");
    w.distillationToken = taker.takeIfPresent("dist_token");
    w.registerTokens = taker.takeIfPresent("reg_token");
    w.positionEmbedding = taker.take("pos_embed");
    for (int i = 0; i < spec.depth; ++i) {
        const std::string p = "blocks." + std::to_string(i) + ".";
        VitBlockWeights b;
        b.norm1Weight = taker.take(p + "norm1.weight");
        b.norm1Bias = taker.take(p + "norm1.bias");
        b.qkvWeight = taker.take(p + "attn.qkv.weight");
        expectShape(source.weightsPath, p + "attn.qkv.weight", b.qkvWeight, {3 * d, d});
        b.qkvBias = taker.takeIfPresent(p + "attn.qkv.bias");
        b.projWeight = taker.take(p + "attn.proj.weight");
        b.projBias = taker.take(p + "attn.proj.bias");
        b.layerScale1 = taker.takeIfPresent(p + "ls1.gamma");
        b.norm2Weight = taker.take(p + "norm2.weight");
        b.norm2Bias = taker.take(p + "norm2.bias");
        b.fc1Weight = taker.take(p + "mlp.fc1.weight");
        b.fc1Bias = taker.take(p + "mlp.fc1.bias");
        b.fc2Weight = taker.take(p + "mlp.fc2.weight");
        b.fc2Bias = taker.take(p + "mlp.fc2.bias");
        b.layerScale2 = taker.takeIfPresent(p + "ls2.gamma");
        w.blocks.push_back(b);
    }
    w.normWeight = taker.takeIfPresent("norm.weight");
    w.normBias = taker.takeIfPresent("norm.bias");
    w.fcNormWeight = taker.takeIfPresent("fc_norm.weight");
    w.fcNormBias = taker.takeIfPresent("fc_norm.bias");
    w.headWeight = taker.takeIfPresent("head.weight");
    w.headBias = taker.takeIfPresent("head.bias");
    w.headDistWeight = taker.takeIfPresent("head_dist.weight");
    w.headDistBias = taker.takeIfPresent("head_dist.bias");
    taker.expectAllUsed();
    return w;
}

// Hugging Face ViTModel (no prefix) or ViTForImageClassification ("vit." prefix).
std::string huggingFacePrefix(const ModelSource& source) {
    if (source.hasTensor("vit.embeddings.patch_embeddings.projection.weight")) return "vit.";
    return "";
}

ModelSpec huggingFaceSpec(const ModelSource& source) {
    const nlohmann::json& config = source.config;
    if (!config.is_object()) {
        throw Error(source.folder, "Hugging Face ViT weights need the config.json that transformers writes next to them");
    }
    const std::string prefix = huggingFacePrefix(source);
    ModelSpec spec;
    spec.family = "vit";
    spec.layout = "huggingface";
    spec.sourcePath = source.path;
    spec.weightsPath = source.weightsPath;
    spec.architecture = config.contains("architectures") && !config["architectures"].empty()
                            ? config["architectures"][0].get<std::string>()
                            : (prefix.empty() ? "ViTModel" : "ViTForImageClassification");
    const std::string modelType = configValue<std::string>(config, "model_type", "vit");
    if (modelType != "vit") throw Error(source.folder, "model_type '" + modelType + "' is not supported by the ViT loader");
    spec.embedDim = configValue<int>(config, "hidden_size", 768);
    spec.depth = configValue<int>(config, "num_hidden_layers", 12);
    spec.numHeads = configValue<int>(config, "num_attention_heads", 12);
    spec.mlpHidden = configValue<int>(config, "intermediate_size", 3072);
    spec.layerNormEps = configValue<double>(config, "layer_norm_eps", 1e-12);
    spec.patchSize = configValue<int>(config, "patch_size", 16);
    spec.channels = configValue<int>(config, "num_channels", 3);
    spec.imageHeight = spec.imageWidth = squareImageSize(config.value("image_size", nlohmann::json(224)), 224);
    spec.qkvBias = configValue<bool>(config, "qkv_bias", true);
    const std::string activation = configValue<std::string>(config, "hidden_act", "gelu");
    if (activation != "gelu") throw Error(source.folder, "hidden_act '" + activation + "' is not supported (exact GELU only)");
    if (spec.embedDim % spec.numHeads != 0) throw Error(source.folder, "hidden_size is not divisible by num_attention_heads");
    const int depthInWeights = countBlocks(source, prefix + "encoder.layer.", ".attention.attention.query.weight");
    if (depthInWeights != spec.depth) {
        throw Error(source.weightsPath, "holds " + std::to_string(depthInWeights) + " layers but config.json says " +
                                            std::to_string(spec.depth));
    }
    spec.numClasses = source.hasTensor("classifier.weight") ? int(source.weights->at("classifier.weight").shape[0]) : 0;
    if (config.contains("id2label") && spec.numClasses > 0) {
        spec.labels.assign(std::size_t(spec.numClasses), std::string());
        for (auto& [key, value] : config["id2label"].items()) {
            const int index = std::stoi(key);
            if (index >= 0 && index < spec.numClasses) spec.labels[std::size_t(index)] = value.get<std::string>();
        }
    }
    spec.preprocessing = source.preprocessorConfig.is_object()
                             ? Preprocessing::fromHuggingFace(source.preprocessorConfig)
                             : Preprocessing::fromHuggingFace(nlohmann::json{{"size", {{"height", spec.imageHeight}, {"width", spec.imageWidth}}}});
    return spec;
}

VitWeights huggingFaceWeights(const ModelSource& source, const ModelSpec& spec) {
    TensorTaker taker(*source.weights, "this ViT variant");
    const std::string p0 = huggingFacePrefix(source);
    VitWeights w;
    w.patchWeight = taker.take(p0 + "embeddings.patch_embeddings.projection.weight");
    w.patchBias = taker.take(p0 + "embeddings.patch_embeddings.projection.bias");
    w.classToken = taker.take(p0 + "embeddings.cls_token");
    w.positionEmbedding = taker.take(p0 + "embeddings.position_embeddings");
    taker.ignore(p0 + "embeddings.mask_token");  // masked-image-modelling only
    for (int i = 0; i < spec.depth; ++i) {
        const std::string p = p0 + "encoder.layer." + std::to_string(i) + ".";
        VitBlockWeights b;
        b.norm1Weight = taker.take(p + "layernorm_before.weight");
        b.norm1Bias = taker.take(p + "layernorm_before.bias");
        const std::string a = p + "attention.attention.";
        b.qkvWeight = at::cat({taker.take(a + "query.weight"), taker.take(a + "key.weight"), taker.take(a + "value.weight")}, 0);
        if (spec.qkvBias) b.qkvBias = at::cat({taker.take(a + "query.bias"), taker.take(a + "key.bias"), taker.take(a + "value.bias")}, 0);
        b.projWeight = taker.take(p + "attention.output.dense.weight");
        b.projBias = taker.take(p + "attention.output.dense.bias");
        b.norm2Weight = taker.take(p + "layernorm_after.weight");
        b.norm2Bias = taker.take(p + "layernorm_after.bias");
        b.fc1Weight = taker.take(p + "intermediate.dense.weight");
        b.fc1Bias = taker.take(p + "intermediate.dense.bias");
        b.fc2Weight = taker.take(p + "output.dense.weight");
        b.fc2Bias = taker.take(p + "output.dense.bias");
        w.blocks.push_back(b);
    }
    w.normWeight = taker.take(p0 + "layernorm.weight");
    w.normBias = taker.take(p0 + "layernorm.bias");
    taker.ignore(p0 + "pooler.dense.weight");  // ViTModel's tanh pooler is not used for classification
    taker.ignore(p0 + "pooler.dense.bias");
    w.headWeight = taker.takeIfPresent("classifier.weight");
    w.headBias = taker.takeIfPresent("classifier.bias");
    expectShape(source.weightsPath, p0 + "embeddings.position_embeddings", w.positionEmbedding,
                {1, int64_t(spec.tokenCount()), int64_t(spec.embedDim)});
    taker.expectAllUsed();
    return w;
}

class VitFamily final : public ModelFamily {
public:
    std::string name() const override { return "vit (timm, Hugging Face ViT)"; }
    bool match(const ModelSource& source) const override {
        return source.hasTensor("patch_embed.proj.weight") || source.hasTensor("pos_embed") ||
               source.hasTensor("vit.embeddings.patch_embeddings.projection.weight") ||
               source.hasTensor("embeddings.patch_embeddings.projection.weight");
    }
    std::unique_ptr<Model> open(const ModelSource& source, const RuntimeOptions& options) const override {
        const std::string device = resolveDevice(options.device);
        if (source.hasTensor("patch_embed.proj.weight")) {
            ModelSpec spec = timmSpec(source);
            VitWeights weights = timmWeights(source, spec);
            return std::make_unique<VitModel>(std::move(spec), std::move(weights), device);
        }
        ModelSpec spec = huggingFaceSpec(source);
        VitWeights weights = huggingFaceWeights(source, spec);
        return std::make_unique<VitModel>(std::move(spec), std::move(weights), device);
    }
};

}  // namespace

std::optional<ModelSpec> specFromTimmName(const std::string& name, int numClasses) {
    const std::optional<KnownVit> known = lookUpTimmName(name);
    if (!known) return std::nullopt;
    ModelSpec spec;
    spec.family = "vit";
    spec.layout = "timm";
    spec.architecture = name;
    spec.embedDim = known->embedDim;
    spec.depth = known->depth;
    spec.numHeads = known->numHeads;
    spec.mlpHidden = 4 * known->embedDim;
    spec.patchSize = known->patchSize;
    spec.imageHeight = spec.imageWidth = known->imageSize;
    spec.registerTokens = known->registerTokens;
    spec.distillationToken = known->distillation;
    spec.layerScale = known->layerScale;
    spec.noEmbedClass = known->noEmbedClass;
    spec.numClasses = numClasses;
    spec.preprocessing = Preprocessing::fromTimm({{"input_size", {3, spec.imageHeight, spec.imageWidth}}});
    return spec;
}

std::unique_ptr<ModelFamily> makeVitFamily() { return std::make_unique<VitFamily>(); }

}  // namespace fovea
