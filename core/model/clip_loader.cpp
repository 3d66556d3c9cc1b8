// Loading CLIP checkpoints into ClipModel: the Hugging Face CLIPModel layout (config.json with
// text_config / vision_config) and the OpenAI / open_clip layout (open_clip_config.json, or the
// sizes read off the tensors as OpenAI's build_model does).
#include "core/io/json_file.h"
#include "core/model/clip.h"
#include "core/model/registry.h"
#include "core/model/torch_tensors.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <filesystem>

namespace fovea {

namespace {

template <typename T>
T configValue(const nlohmann::json& object, const char* key, T fallback) {
    if (object.is_object() && object.contains(key) && !object[key].is_null()) return object[key].get<T>();
    return fallback;
}

void expectField(const std::string& file, const std::string& field, int64_t configured, int64_t inTensors, const std::string& tensor) {
    if (configured != inTensors) {
        throw Error(file, "field '" + field + "' is " + std::to_string(configured) + " but tensor '" + tensor + "' says " +
                              std::to_string(inTensors));
    }
}

int countLayers(const ModelSource& source, const std::string& prefix, const std::string& suffix) {
    int n = 0;
    while (source.hasTensor(prefix + std::to_string(n) + suffix)) ++n;
    return n;
}

// The CLIP evaluation transform: shorter side to the image size (bicubic), centre crop, CLIP's
// mean and std, unless the checkpoint says otherwise.
Preprocessing clipPreprocessing(const ModelSource& source, int size, const nlohmann::json& openClipPreprocess) {
    if (source.preprocessorConfig.is_object()) return Preprocessing::fromHuggingFace(source.preprocessorConfig);
    nlohmann::json config = {{"size", {{"shortest_edge", size}}},
                             {"crop_size", {{"height", size}, {"width", size}}},
                             {"do_center_crop", true},
                             {"resample", 3},
                             {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
                             {"image_std", {0.26862954, 0.26130258, 0.27577711}}};
    if (openClipPreprocess.is_object()) {
        if (openClipPreprocess.contains("mean")) config["image_mean"] = openClipPreprocess["mean"];
        if (openClipPreprocess.contains("std")) config["image_std"] = openClipPreprocess["std"];
    }
    Preprocessing preprocessing = Preprocessing::fromHuggingFace(config);
    // open_clip crops with torchvision's CenterCrop.
    if (!openClipPreprocess.is_null()) preprocessing.cropRounding = CropRounding::HalfToEven;
    return preprocessing;
}

ModelSpec visionSpecOf(const ModelSpec& clip) {
    ModelSpec vision = clip;
    vision.family = "vit";
    vision.modality = "image";
    vision.task.clear();
    vision.numClasses = 0;
    vision.preLayerNorm = true;
    vision.classToken = true;
    vision.pooling = "token";
    return vision;
}

VitBlockWeights takeBlock(TensorTaker& taker, const std::string& p, bool huggingFace) {
    VitBlockWeights b;
    if (huggingFace) {
        b.norm1Weight = taker.take(p + "layer_norm1.weight");
        b.norm1Bias = taker.take(p + "layer_norm1.bias");
        const std::string a = p + "self_attn.";
        b.qkvWeight = at::cat({taker.take(a + "q_proj.weight"), taker.take(a + "k_proj.weight"), taker.take(a + "v_proj.weight")}, 0);
        b.qkvBias = at::cat({taker.take(a + "q_proj.bias"), taker.take(a + "k_proj.bias"), taker.take(a + "v_proj.bias")}, 0);
        b.projWeight = taker.take(a + "out_proj.weight");
        b.projBias = taker.take(a + "out_proj.bias");
        b.norm2Weight = taker.take(p + "layer_norm2.weight");
        b.norm2Bias = taker.take(p + "layer_norm2.bias");
        b.fc1Weight = taker.take(p + "mlp.fc1.weight");
        b.fc1Bias = taker.take(p + "mlp.fc1.bias");
        b.fc2Weight = taker.take(p + "mlp.fc2.weight");
        b.fc2Bias = taker.take(p + "mlp.fc2.bias");
    } else {
        b.norm1Weight = taker.take(p + "ln_1.weight");
        b.norm1Bias = taker.take(p + "ln_1.bias");
        b.qkvWeight = taker.take(p + "attn.in_proj_weight");  // q, k, v stacked, as timm's qkv
        b.qkvBias = taker.take(p + "attn.in_proj_bias");
        b.projWeight = taker.take(p + "attn.out_proj.weight");
        b.projBias = taker.take(p + "attn.out_proj.bias");
        b.norm2Weight = taker.take(p + "ln_2.weight");
        b.norm2Bias = taker.take(p + "ln_2.bias");
        b.fc1Weight = taker.take(p + "mlp.c_fc.weight");
        b.fc1Bias = taker.take(p + "mlp.c_fc.bias");
        b.fc2Weight = taker.take(p + "mlp.c_proj.weight");
        b.fc2Bias = taker.take(p + "mlp.c_proj.bias");
    }
    return b;
}

std::unique_ptr<Model> openHuggingFaceClip(const ModelSource& source, const std::string& device) {
    const nlohmann::json& config = source.config;
    const std::string file = source.folder + "/config.json";
    if (!config.is_object() || !config.contains("text_config") || !config.contains("vision_config")) {
        throw Error(source.folder, "Hugging Face CLIP weights need the config.json (text_config, vision_config) that transformers writes");
    }
    const nlohmann::json& tc = config["text_config"];
    const nlohmann::json& vc = config["vision_config"];
    ModelSpec spec;
    spec.family = "clip";
    spec.layout = "huggingface";
    spec.architecture = "CLIPModel";
    spec.modality = "image-text";
    spec.task = "contrastive";
    spec.causal = false;  // the vision tower; the text tower is causal (textAttention.causal)
    spec.sourcePath = source.path;
    spec.weightsPath = source.weightsPath;
    const std::vector<int64_t> patch = source.weights->at("vision_model.embeddings.patch_embedding.weight").shape;
    spec.embedDim = int(patch[0]);
    spec.channels = int(patch[1]);
    spec.patchSize = int(patch[2]);
    spec.depth = countLayers(source, "vision_model.encoder.layers.", ".self_attn.q_proj.weight");
    spec.mlpHidden = int(source.weights->at("vision_model.encoder.layers.0.mlp.fc1.weight").shape[0]);
    const std::vector<int64_t> words = source.weights->at("text_model.embeddings.token_embedding.weight").shape;
    spec.vocabSize = int(words[0]);
    spec.textEmbedDim = int(words[1]);
    spec.contextLength = int(source.weights->at("text_model.embeddings.position_embedding.weight").shape[0]);
    spec.textDepth = countLayers(source, "text_model.encoder.layers.", ".self_attn.q_proj.weight");
    spec.textMlpHidden = int(source.weights->at("text_model.encoder.layers.0.mlp.fc1.weight").shape[0]);
    spec.projectionDim = int(source.weights->at("text_projection.weight").shape[0]);
    expectField(file, "vision_config.hidden_size", configValue<int>(vc, "hidden_size", spec.embedDim), spec.embedDim, "vision_model.embeddings.patch_embedding.weight");
    expectField(file, "vision_config.patch_size", configValue<int>(vc, "patch_size", spec.patchSize), spec.patchSize, "vision_model.embeddings.patch_embedding.weight");
    expectField(file, "vision_config.num_hidden_layers", configValue<int>(vc, "num_hidden_layers", spec.depth), spec.depth, "vision_model.encoder.layers.N.*");
    expectField(file, "text_config.hidden_size", configValue<int>(tc, "hidden_size", spec.textEmbedDim), spec.textEmbedDim, "text_model.embeddings.token_embedding.weight");
    expectField(file, "text_config.vocab_size", configValue<int>(tc, "vocab_size", spec.vocabSize), spec.vocabSize, "text_model.embeddings.token_embedding.weight");
    expectField(file, "text_config.num_hidden_layers", configValue<int>(tc, "num_hidden_layers", spec.textDepth), spec.textDepth, "text_model.encoder.layers.N.*");
    expectField(file, "text_config.max_position_embeddings", configValue<int>(tc, "max_position_embeddings", spec.contextLength), spec.contextLength,
                "text_model.embeddings.position_embedding.weight");
    expectField(file, "projection_dim", configValue<int>(config, "projection_dim", spec.projectionDim), spec.projectionDim, "text_projection.weight");
    spec.numHeads = configValue<int>(vc, "num_attention_heads", 0);
    spec.textHeads = configValue<int>(tc, "num_attention_heads", 0);
    if (spec.numHeads <= 0 || spec.embedDim % spec.numHeads != 0) throw Error(file, "field 'vision_config.num_attention_heads' must divide hidden_size");
    if (spec.textHeads <= 0 || spec.textEmbedDim % spec.textHeads != 0) throw Error(file, "field 'text_config.num_attention_heads' must divide hidden_size");
    const int imageSize = configValue<int>(vc, "image_size", 224);
    spec.imageHeight = spec.imageWidth = imageSize;
    const int64_t positions = source.weights->at("vision_model.embeddings.position_embedding.weight").shape[0];
    expectField(file, "vision_config.image_size", int64_t(spec.gridRows()) * spec.gridCols() + 1, positions,
                "vision_model.embeddings.position_embedding.weight");
    for (const char* field : {"hidden_act"}) {
        const std::string text = configValue<std::string>(tc, field, "quick_gelu"), image = configValue<std::string>(vc, field, "quick_gelu");
        if (text != image || (text != "quick_gelu" && text != "gelu")) throw Error(file, "hidden_act '" + text + "' / '" + image + "' is not supported (quick_gelu or gelu, the same in both towers)");
        spec.activation = text;
    }
    spec.layerNormEps = configValue<double>(vc, "layer_norm_eps", 1e-5);
    spec.specialTokens[configValue<long long>(tc, "eos_token_id", spec.vocabSize - 1)] = "<|endoftext|>";
    spec.specialTokens[configValue<long long>(tc, "bos_token_id", spec.vocabSize - 2)] = "<|startoftext|>";
    spec.preprocessing = clipPreprocessing(source, imageSize, nlohmann::json());

    TensorTaker taker(*source.weights, "this CLIP variant");
    VitWeights vision;
    vision.patchWeight = taker.take("vision_model.embeddings.patch_embedding.weight");
    vision.classToken = taker.take("vision_model.embeddings.class_embedding").reshape({1, 1, spec.embedDim});
    vision.positionEmbedding = taker.take("vision_model.embeddings.position_embedding.weight").unsqueeze(0);
    taker.ignore("vision_model.embeddings.position_ids");
    taker.ignore("text_model.embeddings.position_ids");
    // transformers spells it "pre_layrnorm".
    vision.preNormWeight = taker.take("vision_model.pre_layrnorm.weight");
    vision.preNormBias = taker.take("vision_model.pre_layrnorm.bias");
    for (int i = 0; i < spec.depth; ++i) vision.blocks.push_back(takeBlock(taker, "vision_model.encoder.layers." + std::to_string(i) + ".", true));
    vision.normWeight = taker.take("vision_model.post_layernorm.weight");
    vision.normBias = taker.take("vision_model.post_layernorm.bias");
    vision.headWeight = taker.take("visual_projection.weight");
    ClipTextWeights text;
    text.tokenEmbedding = taker.take("text_model.embeddings.token_embedding.weight");
    text.positionEmbedding = taker.take("text_model.embeddings.position_embedding.weight");
    for (int i = 0; i < spec.textDepth; ++i) text.blocks.push_back(takeBlock(taker, "text_model.encoder.layers." + std::to_string(i) + ".", true));
    text.finalNormWeight = taker.take("text_model.final_layer_norm.weight");
    text.finalNormBias = taker.take("text_model.final_layer_norm.bias");
    text.projection = taker.take("text_projection.weight");
    text.logitScale = taker.take("logit_scale").reshape({});
    taker.expectAllUsed();
    ModelSpec visionSpec = visionSpecOf(spec);
    return std::make_unique<ClipModel>(std::move(spec), std::move(visionSpec), std::move(vision), std::move(text), device);
}

std::unique_ptr<Model> openOpenAiClip(const ModelSource& source, const std::string& device) {
    const std::filesystem::path configPath = std::filesystem::path(source.folder) / "open_clip_config.json";
    nlohmann::json openClip;
    if (std::filesystem::exists(configPath)) openClip = readJsonFile(configPath.string());
    const nlohmann::json cfg = openClip.is_object() && openClip.contains("model_cfg") ? openClip["model_cfg"] : nlohmann::json::object();
    const nlohmann::json vc = cfg.value("vision_cfg", nlohmann::json::object());
    const nlohmann::json tc = cfg.value("text_cfg", nlohmann::json::object());
    const std::string file = configPath.string();
    ModelSpec spec;
    spec.family = "clip";
    spec.layout = "openai";
    spec.architecture = "CLIP";
    spec.modality = "image-text";
    spec.task = "contrastive";
    spec.sourcePath = source.path;
    spec.weightsPath = source.weightsPath;
    const std::vector<int64_t> conv = source.weights->at("visual.conv1.weight").shape;
    spec.embedDim = int(conv[0]);
    spec.channels = int(conv[1]);
    spec.patchSize = int(conv[2]);
    spec.depth = countLayers(source, "visual.transformer.resblocks.", ".attn.in_proj_weight");
    spec.mlpHidden = int(source.weights->at("visual.transformer.resblocks.0.mlp.c_fc.weight").shape[0]);
    const std::vector<int64_t> words = source.weights->at("token_embedding.weight").shape;
    spec.vocabSize = int(words[0]);
    spec.textEmbedDim = int(words[1]);
    spec.contextLength = int(source.weights->at("positional_embedding").shape[0]);
    spec.textDepth = countLayers(source, "transformer.resblocks.", ".attn.in_proj_weight");
    spec.textMlpHidden = int(source.weights->at("transformer.resblocks.0.mlp.c_fc.weight").shape[0]);
    spec.projectionDim = int(source.weights->at("text_projection").shape[1]);
    const int64_t positions = source.weights->at("visual.positional_embedding").shape[0];
    int side = 1;
    while (int64_t(side + 1) * (side + 1) <= positions - 1) ++side;
    spec.imageHeight = spec.imageWidth = side * spec.patchSize;
    if (!cfg.empty()) {
        expectField(file, "vision_cfg.width", configValue<int>(vc, "width", spec.embedDim), spec.embedDim, "visual.conv1.weight");
        expectField(file, "vision_cfg.patch_size", configValue<int>(vc, "patch_size", spec.patchSize), spec.patchSize, "visual.conv1.weight");
        expectField(file, "vision_cfg.layers", configValue<int>(vc, "layers", spec.depth), spec.depth, "visual.transformer.resblocks.N.*");
        expectField(file, "vision_cfg.image_size", configValue<int>(vc, "image_size", spec.imageHeight), spec.imageHeight, "visual.positional_embedding");
        expectField(file, "text_cfg.width", configValue<int>(tc, "width", spec.textEmbedDim), spec.textEmbedDim, "token_embedding.weight");
        expectField(file, "text_cfg.vocab_size", configValue<int>(tc, "vocab_size", spec.vocabSize), spec.vocabSize, "token_embedding.weight");
        expectField(file, "text_cfg.layers", configValue<int>(tc, "layers", spec.textDepth), spec.textDepth, "transformer.resblocks.N.*");
        expectField(file, "text_cfg.context_length", configValue<int>(tc, "context_length", spec.contextLength), spec.contextLength, "positional_embedding");
        expectField(file, "embed_dim", configValue<int>(cfg, "embed_dim", spec.projectionDim), spec.projectionDim, "text_projection");
    }
    // OpenAI's build_model: vision heads = width / 64 (open_clip: width / head_width); text heads
    // = width / 64 unless the config says.
    spec.numHeads = spec.embedDim / configValue<int>(vc, "head_width", 64);
    spec.textHeads = configValue<int>(tc, "heads", std::max(1, spec.textEmbedDim / 64));
    if (spec.numHeads <= 0 || spec.embedDim % spec.numHeads != 0) throw Error(file, "field 'vision_cfg.head_width' must divide width");
    if (spec.textHeads <= 0 || spec.textEmbedDim % spec.textHeads != 0) throw Error(file, "field 'text_cfg.heads' must divide width");
    if (configValue<bool>(cfg, "quick_gelu", true) == false && openClip.is_object() && cfg.contains("quick_gelu")) {
        spec.activation = "gelu";
    } else {
        spec.activation = "quick_gelu";  // OpenAI's weights were trained with QuickGELU
    }
    spec.layerNormEps = 1e-5;
    // OpenAI's tokenizer puts <|startoftext|> and <|endoftext|> last; pooling takes the highest id.
    spec.specialTokens[spec.vocabSize - 1] = "<|endoftext|>";
    spec.specialTokens[spec.vocabSize - 2] = "<|startoftext|>";
    spec.preprocessing = clipPreprocessing(source, spec.imageHeight,
                                           openClip.is_object() && openClip.contains("preprocess_cfg") ? openClip["preprocess_cfg"] : nlohmann::json::object());

    TensorTaker taker(*source.weights, "this CLIP variant");
    VitWeights vision;
    vision.patchWeight = taker.take("visual.conv1.weight");
    vision.classToken = taker.take("visual.class_embedding").reshape({1, 1, spec.embedDim});
    vision.positionEmbedding = taker.take("visual.positional_embedding").unsqueeze(0);
    vision.preNormWeight = taker.take("visual.ln_pre.weight");
    vision.preNormBias = taker.take("visual.ln_pre.bias");
    for (int i = 0; i < spec.depth; ++i) vision.blocks.push_back(takeBlock(taker, "visual.transformer.resblocks." + std::to_string(i) + ".", false));
    vision.normWeight = taker.take("visual.ln_post.weight");
    vision.normBias = taker.take("visual.ln_post.bias");
    vision.headWeight = taker.take("visual.proj").t().contiguous();  // stored [width, embed]
    ClipTextWeights text;
    text.tokenEmbedding = taker.take("token_embedding.weight");
    text.positionEmbedding = taker.take("positional_embedding");
    for (int i = 0; i < spec.textDepth; ++i) text.blocks.push_back(takeBlock(taker, "transformer.resblocks." + std::to_string(i) + ".", false));
    text.finalNormWeight = taker.take("ln_final.weight");
    text.finalNormBias = taker.take("ln_final.bias");
    text.projection = taker.take("text_projection").t().contiguous();  // stored [width, embed]
    text.logitScale = taker.take("logit_scale").reshape({});
    taker.ignore("input_resolution");  // metadata some OpenAI exports keep
    taker.ignore("context_length");
    taker.ignore("vocab_size");
    taker.expectAllUsed();
    ModelSpec visionSpec = visionSpecOf(spec);
    return std::make_unique<ClipModel>(std::move(spec), std::move(visionSpec), std::move(vision), std::move(text), device);
}

class ClipFamily final : public ModelFamily {
public:
    std::string name() const override { return "clip (Hugging Face CLIPModel, OpenAI / open_clip)"; }
    bool match(const ModelSource& source) const override {
        return source.hasTensor("visual.conv1.weight") || source.hasTensor("vision_model.embeddings.patch_embedding.weight");
    }
    std::unique_ptr<Model> open(const ModelSource& source, const RuntimeOptions& options) const override {
        const std::string device = resolveDevice(options.device);
        if (source.hasTensor("visual.conv1.weight")) return openOpenAiClip(source, device);
        return openHuggingFaceClip(source, device);
    }
};

}  // namespace

std::unique_ptr<ModelFamily> makeClipFamily() { return std::make_unique<ClipFamily>(); }

}  // namespace fovea
