// Loading ResNet checkpoints in the torchvision / timm layout (conv1, bn1, layer1.0.conv1,
// layer1.0.downsample.0, fc) and the Hugging Face ResNetForImageClassification layout
// (resnet.embedder.embedder.convolution, resnet.encoder.stages.0.layers.0.layer.0, classifier.1)
// into ResnetModel.
//
// The network's shape is read off the tensors: the number of stages and of blocks per stage
// from the names, the block type from whether a third convolution exists, every width from the
// weight shapes (groups of a bottleneck's 3x3 from its input channels), so ResNet-18 to -152,
// wide ResNets, ResNeXt and tiny test networks all load the same way. Configs add labels,
// preprocessing and the Hugging Face stride options, and are checked against the tensors.
#include "core/model/registry.h"
#include "core/model/resnet.h"
#include "core/model/torch_tensors.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <sstream>

namespace fovea {

namespace {

template <typename T>
T configValue(const nlohmann::json& object, const char* key, T fallback) {
    if (object.is_object() && object.contains(key) && !object[key].is_null()) return object[key].get<T>();
    return fallback;
}

std::string listText(const std::vector<int>& values) {
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
    out << "]";
    return out.str();
}

std::string shapeText(const std::vector<int64_t>& shape) {
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? "," : "") << shape[i];
    out << "]";
    return out.str();
}

// "resnet." for ResNetForImageClassification, "" for a bare ResNetModel; nothing for other layouts.
std::optional<std::string> huggingFacePrefix(const ModelSource& source) {
    if (source.hasTensor("resnet.embedder.embedder.convolution.weight")) return std::string("resnet.");
    if (source.hasTensor("embedder.embedder.convolution.weight")) return std::string();
    return std::nullopt;
}

// Reads one network's shape and weights in one layout.
class ResnetReader {
public:
    ResnetReader(const ModelSource& source, ResnetNaming naming)
        : m_file(source.weightsPath), m_naming(std::move(naming)), m_taker(*source.weights, "this ResNet variant") {}

    // A convolution entering with `in` channels (kernel x kernel, or any square kernel when 0)
    // and its batch norm. Groups are read from the weight's input channels when allowed.
    ConvBn convBn(const std::string& convName, const std::string& normName, int64_t in, int64_t kernel, int stride,
                  bool allowGroups = false) {
        const std::vector<int64_t> shape = m_taker.shape(convName);
        if (shape.size() != 4 || shape[0] <= 0 || shape[1] <= 0) {
            throw Error(m_file, "tensor '" + convName + "' has shape " + shapeText(shape) + ", expected a 4-D convolution weight");
        }
        ConvBn c;
        c.stride = stride;
        if (allowGroups && in % shape[1] == 0) c.groups = int(in / shape[1]);
        if (kernel == 0) kernel = shape[2];
        c.weight = m_taker.take(convName);
        expectShape(m_file, convName, c.weight, {shape[0], in / c.groups, kernel, kernel});
        if (kernel % 2 == 0) throw Error(m_file, "tensor '" + convName + "' has an even kernel; ResNets use odd ones");
        if (shape[0] % c.groups != 0) {
            throw Error(m_file, "tensor '" + convName + "' has " + std::to_string(shape[0]) +
                                    " output channels, not divisible by its " + std::to_string(c.groups) + " groups");
        }
        c.bnWeight = norm(normName + "weight", shape[0]);
        c.bnBias = norm(normName + "bias", shape[0]);
        c.runningMean = norm(normName + "running_mean", shape[0]);
        c.runningVar = norm(normName + "running_var", shape[0]);
        m_taker.ignore(normName + "num_batches_tracked");
        return c;
    }

    // Fills the shape fields of `spec` and returns the weights. firstStageStride: 1 (torchvision,
    // Hugging Face by default) or 2 (HF downsample_in_first_stage); strideOnFirst: stride a
    // bottleneck's first 1x1 instead of its 3x3 (HF downsample_in_bottleneck, ResNet v1).
    ResnetWeights read(ModelSpec& spec, int firstStageStride, bool strideOnFirst) {
        ResnetWeights w;
        const std::string stem = m_naming.stemConv();
        if (!m_taker.has(stem) && m_taker.has("conv1.0.weight")) {
            throw Error(m_file, "tensor 'conv1.0.weight' belongs to a deep-stem ResNet (timm resnet*d, resnet*t, resnet*s), "
                                "which Fovea's native ResNet does not support (it expects 'conv1.weight')");
        }
        const std::vector<int64_t> stemShape = m_taker.shape(stem);
        if (stemShape.size() != 4) throw Error(m_file, "tensor '" + stem + "' is not a 4-D convolution weight");
        spec.channels = int(stemShape[1]);
        w.stem = convBn(stem, m_naming.stemNorm(), spec.channels, 0, 2);
        spec.stemWidth = int(stemShape[0]);

        int stages = 0;
        while (m_taker.has(m_naming.conv(stages, 0, 0))) ++stages;
        if (stages == 0) throw Error(m_file, "no residual stages found (expected '" + m_naming.conv(0, 0, 0) + "')");
        const bool bottleneck = m_taker.has(m_naming.conv(0, 0, 2));
        spec.blockType = bottleneck ? "bottleneck" : "basic";
        spec.stageBlocks.clear();
        spec.stageWidths.clear();
        int64_t in = spec.stemWidth;
        int totalStride = 4;  // the stem's convolution and max pool
        for (int s = 0; s < stages; ++s) {
            std::vector<ResnetBlockWeights> stage;
            for (int b = 0; m_taker.has(m_naming.conv(s, b, 0)); ++b) {
                const int stride = b > 0 ? 1 : (s == 0 ? firstStageStride : 2);
                if (b == 0) totalStride *= stride;
                stage.push_back(block(s, b, in, stride, bottleneck, strideOnFirst, spec));
                in = stage.back().convs.back().weight.size(0);
            }
            spec.stageBlocks.push_back(int(stage.size()));
            spec.stageWidths.push_back(int(in));
            w.stages.push_back(std::move(stage));
        }
        spec.embedDim = int(in);
        spec.patchSize = totalStride;
        if (m_taker.has(m_naming.fcWeight())) {
            const std::vector<int64_t> fcShape = m_taker.shape(m_naming.fcWeight());
            const int64_t classes = fcShape.empty() ? 0 : fcShape[0];
            w.fcWeight = m_taker.take(m_naming.fcWeight());
            expectShape(m_file, m_naming.fcWeight(), w.fcWeight, {classes, in});
            w.fcBias = m_taker.take(m_naming.fcBias());
            expectShape(m_file, m_naming.fcBias(), w.fcBias, {classes});
            spec.numClasses = int(classes);
        } else {
            spec.numClasses = 0;
        }
        m_taker.expectAllUsed();
        return w;
    }

private:
    at::Tensor norm(const std::string& name, int64_t channels) {
        at::Tensor t = m_taker.take(name);
        expectShape(m_file, name, t, {channels});
        return t;
    }

    ResnetBlockWeights block(int s, int b, int64_t in, int stride, bool bottleneck, bool strideOnFirst, ModelSpec& spec) {
        const bool hasThird = m_taker.has(m_naming.conv(s, b, 2));
        if (hasThird != bottleneck) {
            throw Error(m_file, std::string(bottleneck ? "missing" : "unexpected") + " tensor '" + m_naming.conv(s, b, 2) +
                                    "': blocks mix the basic and bottleneck layouts (block type is read from the first block)");
        }
        ResnetBlockWeights block;
        if (bottleneck) {
            block.convs.push_back(convBn(m_naming.conv(s, b, 0), m_naming.norm(s, b, 0), in, 1, strideOnFirst ? stride : 1));
            const int64_t inner = block.convs[0].weight.size(0);
            block.convs.push_back(convBn(m_naming.conv(s, b, 1), m_naming.norm(s, b, 1), inner, 3, strideOnFirst ? 1 : stride, true));
            block.convs.push_back(convBn(m_naming.conv(s, b, 2), m_naming.norm(s, b, 2), block.convs[1].weight.size(0), 1, 1));
            if (s == 0 && b == 0) {
                const int64_t out = block.convs[2].weight.size(0);
                spec.groups = block.convs[1].groups;
                // torchvision: inner = (out / 4) * width_per_group / 64 * groups.
                spec.widthPerGroup = out >= 4 ? int(inner * 64 * 4 / (out * spec.groups)) : 64;
            }
        } else {
            block.convs.push_back(convBn(m_naming.conv(s, b, 0), m_naming.norm(s, b, 0), in, 3, stride));
            block.convs.push_back(convBn(m_naming.conv(s, b, 1), m_naming.norm(s, b, 1), block.convs[0].weight.size(0), 3, 1));
        }
        const int64_t out = block.convs.back().weight.size(0);
        const std::string shortcut = m_naming.shortcutConv(s, b);
        if (m_taker.has(shortcut)) {
            block.shortcut = convBn(shortcut, m_naming.shortcutNorm(s, b), in, 1, stride);
            expectShape(m_file, shortcut, block.shortcut.weight, {out, in, 1, 1});
        } else if (!m_naming.huggingFace() && m_taker.has(m_naming.shortcutNorm(s, b) + "weight") &&
                   m_taker.shape(m_naming.shortcutNorm(s, b) + "weight").size() == 4) {
            throw Error(m_file, "tensor '" + m_naming.shortcutNorm(s, b) + "weight' is an average-pool shortcut (timm avg_down, "
                                "resnet*d), which Fovea's native ResNet does not support");
        } else if (stride != 1 || in != out) {
            throw Error(m_file, "missing tensor '" + shortcut + "': the block changes " + std::to_string(in) + " to " +
                                    std::to_string(out) + " channels with stride " + std::to_string(stride) +
                                    " and needs a projection shortcut");
        }
        return block;
    }

    std::string m_file;
    ResnetNaming m_naming;
    TensorTaker m_taker;
};

std::vector<std::string> huggingFaceLabels(const nlohmann::json& config, int numClasses) {
    std::vector<std::string> labels;
    if (!config.is_object() || !config.contains("id2label") || numClasses <= 0) return labels;
    labels.assign(std::size_t(numClasses), std::string());
    for (auto& [key, value] : config["id2label"].items()) {
        const int index = std::stoi(key);
        if (index >= 0 && index < numClasses) labels[std::size_t(index)] = value.get<std::string>();
    }
    return labels;
}

// Config facts that must agree with what the tensors say.
void checkHuggingFaceConfig(const ModelSource& source, const ModelSpec& spec) {
    const nlohmann::json& config = source.config;
    if (!config.is_object()) return;
    const std::string modelType = configValue<std::string>(config, "model_type", "resnet");
    if (modelType != "resnet") throw Error(source.folder, "model_type '" + modelType + "' is not supported by the ResNet loader");
    const std::string activation = configValue<std::string>(config, "hidden_act", "relu");
    if (activation != "relu") throw Error(source.folder, "hidden_act '" + activation + "' is not supported (ReLU only)");
    const auto check = [&](const char* key, const std::vector<int>& actual) {
        if (!config.contains(key)) return;
        const std::vector<int> said = config[key].get<std::vector<int>>();
        if (said != actual) {
            throw Error(source.weightsPath, "holds " + std::string(key) + " " + listText(actual) + " but config.json says " +
                                                listText(said));
        }
    };
    check("depths", spec.stageBlocks);
    check("hidden_sizes", spec.stageWidths);
    const int embedding = configValue<int>(config, "embedding_size", spec.stemWidth);
    if (embedding != spec.stemWidth) {
        throw Error(source.weightsPath, "holds a stem of width " + std::to_string(spec.stemWidth) + " but config.json says "
                                        "embedding_size " + std::to_string(embedding));
    }
    const std::string layerType = configValue<std::string>(config, "layer_type", spec.blockType);
    if (layerType != spec.blockType) {
        throw Error(source.weightsPath, "holds " + spec.blockType + " blocks but config.json says layer_type '" + layerType + "'");
    }
}

std::unique_ptr<Model> openResnet(const ModelSource& source, const std::string& device) {
    const nlohmann::json& config = source.config;
    ModelSpec spec;
    spec.family = "resnet";
    spec.sourcePath = source.path;
    spec.weightsPath = source.weightsPath;
    spec.depth = 0;
    spec.numHeads = 0;
    spec.mlpHidden = 0;
    spec.classToken = false;
    spec.pooling = "avg";
    spec.batchNormEps = 1e-5;  // torchvision, timm and transformers all use BatchNorm2d's default

    const std::optional<std::string> hfPrefix = huggingFacePrefix(source);
    if (hfPrefix) {
        spec.layout = "huggingface";
        ResnetNaming naming("huggingface", *hfPrefix);
        const int firstStride = configValue<bool>(config, "downsample_in_first_stage", false) ? 2 : 1;
        const bool strideOnFirst = configValue<bool>(config, "downsample_in_bottleneck", false);
        ResnetWeights weights = ResnetReader(source, naming).read(spec, firstStride, strideOnFirst);
        checkHuggingFaceConfig(source, spec);
        spec.architecture = config.is_object() && config.contains("architectures") && !config["architectures"].empty()
                                ? config["architectures"][0].get<std::string>()
                                : (hfPrefix->empty() ? "ResNetModel" : "ResNetForImageClassification");
        spec.labels = huggingFaceLabels(config, spec.numClasses);
        spec.preprocessing = Preprocessing::fromHuggingFace(
            source.preprocessorConfig.is_object()
                ? source.preprocessorConfig
                // What microsoft/resnet-50 ships: shortest edge 224 / 0.875, bicubic, centre crop 224.
                : nlohmann::json{{"image_processor_type", "ConvNextImageProcessor"},
                                 {"size", {{"shortest_edge", 224}}},
                                 {"crop_pct", 0.875},
                                 {"resample", 3}});
        spec.imageHeight = spec.preprocessing.height;
        spec.imageWidth = spec.preprocessing.width;
        return std::make_unique<ResnetModel>(std::move(spec), std::move(weights), std::move(naming), device);
    }

    // timm and torchvision share the names; only a timm config tells them apart.
    const bool timm = config.is_object() && (config.contains("architecture") || config.contains("pretrained_cfg"));
    spec.layout = timm ? "timm" : "torchvision";
    ResnetNaming naming(spec.layout);
    ResnetWeights weights = ResnetReader(source, naming).read(spec, 1, false);
    spec.architecture = configValue<std::string>(config, "architecture", "resnet" + std::to_string(spec.weightLayers()));
    const nlohmann::json pretrained = config.is_object() && config.contains("pretrained_cfg") ? config["pretrained_cfg"] : nlohmann::json();
    if (config.is_object() && config.contains("label_names")) spec.labels = config["label_names"].get<std::vector<std::string>>();
    else if (pretrained.is_object() && pretrained.contains("label_names")) spec.labels = pretrained["label_names"].get<std::vector<std::string>>();
    if (pretrained.is_object()) {
        spec.preprocessing = Preprocessing::fromTimm(pretrained);
    } else {
        // torchvision's ImageNet evaluation transform: resize 256 (bilinear), centre crop 224.
        spec.preprocessing = Preprocessing::fromTimm({{"input_size", {3, 224, 224}}, {"crop_pct", 0.875}, {"interpolation", "bilinear"}});
    }
    spec.imageHeight = spec.preprocessing.height;
    spec.imageWidth = spec.preprocessing.width;
    return std::make_unique<ResnetModel>(std::move(spec), std::move(weights), std::move(naming), device);
}

class ResnetFamily final : public ModelFamily {
public:
    std::string name() const override { return "resnet (torchvision, timm, Hugging Face ResNet)"; }
    bool match(const ModelSource& source) const override {
        if (source.hasTensor("layer1.0.conv1.weight") || source.hasTensor("resnet.embedder.embedder.convolution.weight")) {
            return true;
        }
        // A bare Hugging Face ResNetModel; other HF CNNs (RegNet) share these names, so the
        // config must not say otherwise.
        return source.hasTensor("embedder.embedder.convolution.weight") &&
               configValue<std::string>(source.config, "model_type", "resnet") == "resnet";
    }
    std::unique_ptr<Model> open(const ModelSource& source, const RuntimeOptions& options) const override {
        return openResnet(source, resolveDevice(options.device));
    }
};

}  // namespace

std::unique_ptr<ModelFamily> makeResnetFamily() { return std::make_unique<ResnetFamily>(); }

}  // namespace fovea
