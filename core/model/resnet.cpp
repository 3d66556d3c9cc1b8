#include "core/model/resnet.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <functional>

namespace fovea {

void foldBatchNorm(ConvBn& conv, double eps) {
    if (!conv.bnWeight.defined()) return;
    torch::NoGradGuard noGrad;
    const at::Tensor scale = conv.bnWeight.to(at::kDouble) / at::sqrt(conv.runningVar.to(at::kDouble) + eps);
    const at::Tensor shift = conv.bnBias.to(at::kDouble) - conv.runningMean.to(at::kDouble) * scale;
    conv.weight = (conv.weight.to(at::kDouble) * scale.reshape({-1, 1, 1, 1})).to(conv.weight.scalar_type()).contiguous();
    conv.bias = shift.to(conv.weight.scalar_type());
    conv.bnWeight = conv.bnBias = conv.runningMean = conv.runningVar = at::Tensor();
}

// ---------------------------------------------------------------------------------------------
// Names

ResnetNaming::ResnetNaming(std::string layout, std::string prefix)
    : m_huggingFace(layout == "huggingface"), m_prefix(m_huggingFace ? std::move(prefix) : std::string()) {}

std::string ResnetNaming::block(int stage, int block) const {
    if (m_huggingFace) return m_prefix + "encoder.stages." + std::to_string(stage) + ".layers." + std::to_string(block) + ".";
    return "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
}

std::string ResnetNaming::stemConv() const {
    return m_huggingFace ? m_prefix + "embedder.embedder.convolution.weight" : "conv1.weight";
}

std::string ResnetNaming::stemNorm() const {
    return m_huggingFace ? m_prefix + "embedder.embedder.normalization." : "bn1.";
}

std::string ResnetNaming::conv(int stage, int blockIndex, int index) const {
    if (m_huggingFace) return block(stage, blockIndex) + "layer." + std::to_string(index) + ".convolution.weight";
    return block(stage, blockIndex) + "conv" + std::to_string(index + 1) + ".weight";
}

std::string ResnetNaming::norm(int stage, int blockIndex, int index) const {
    if (m_huggingFace) return block(stage, blockIndex) + "layer." + std::to_string(index) + ".normalization.";
    return block(stage, blockIndex) + "bn" + std::to_string(index + 1) + ".";
}

std::string ResnetNaming::shortcutConv(int stage, int blockIndex) const {
    return block(stage, blockIndex) + (m_huggingFace ? "shortcut.convolution.weight" : "downsample.0.weight");
}

std::string ResnetNaming::shortcutNorm(int stage, int blockIndex) const {
    return block(stage, blockIndex) + (m_huggingFace ? "shortcut.normalization." : "downsample.1.");
}

std::string ResnetNaming::fcWeight() const { return m_huggingFace ? "classifier.1.weight" : "fc.weight"; }
std::string ResnetNaming::fcBias() const { return m_huggingFace ? "classifier.1.bias" : "fc.bias"; }

std::string ResnetNaming::featureLayer(int layer) const {
    if (layer == 0) return m_huggingFace ? m_prefix + "embedder" : "maxpool";
    return m_huggingFace ? m_prefix + "encoder.stages." + std::to_string(layer - 1) : "layer" + std::to_string(layer);
}

std::vector<std::pair<std::string, at::Tensor*>> namedResnetTensors(ResnetWeights& weights, const ResnetNaming& naming) {
    std::vector<std::pair<std::string, at::Tensor*>> out;
    auto add = [&](const std::string& convName, const std::string& normName, ConvBn& c) {
        out.emplace_back(convName, &c.weight);
        if (c.bnWeight.defined()) {
            out.emplace_back(normName + "weight", &c.bnWeight);
            out.emplace_back(normName + "bias", &c.bnBias);
            out.emplace_back(normName + "running_mean", &c.runningMean);
            out.emplace_back(normName + "running_var", &c.runningVar);
        }
    };
    add(naming.stemConv(), naming.stemNorm(), weights.stem);
    for (std::size_t s = 0; s < weights.stages.size(); ++s) {
        for (std::size_t b = 0; b < weights.stages[s].size(); ++b) {
            ResnetBlockWeights& block = weights.stages[s][b];
            for (std::size_t i = 0; i < block.convs.size(); ++i) {
                add(naming.conv(int(s), int(b), int(i)), naming.norm(int(s), int(b), int(i)), block.convs[i]);
            }
            if (block.shortcut.weight.defined()) {
                add(naming.shortcutConv(int(s), int(b)), naming.shortcutNorm(int(s), int(b)), block.shortcut);
            }
        }
    }
    if (weights.fcWeight.defined()) {
        out.emplace_back(naming.fcWeight(), &weights.fcWeight);
        out.emplace_back(naming.fcBias(), &weights.fcBias);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Well-known shapes and random weights

std::optional<ModelSpec> specFromResnetName(const std::string& fullName, int numClasses) {
    const std::string name = fullName.substr(0, fullName.find('.'));
    struct Known {
        const char* name;
        bool bottleneck;
        std::vector<int> blocks;
        int groups, widthPerGroup;
    };
    static const std::vector<Known> table = {
        {"resnet18", false, {2, 2, 2, 2}, 1, 64},          {"resnet34", false, {3, 4, 6, 3}, 1, 64},
        {"resnet50", true, {3, 4, 6, 3}, 1, 64},           {"resnet101", true, {3, 4, 23, 3}, 1, 64},
        {"resnet152", true, {3, 8, 36, 3}, 1, 64},         {"resnext50_32x4d", true, {3, 4, 6, 3}, 32, 4},
        {"resnext101_32x8d", true, {3, 4, 23, 3}, 32, 8},  {"wide_resnet50_2", true, {3, 4, 6, 3}, 1, 128},
        {"wide_resnet101_2", true, {3, 4, 23, 3}, 1, 128},
    };
    for (const Known& known : table) {
        if (name != known.name) continue;
        ModelSpec spec;
        spec.family = "resnet";
        spec.layout = "torchvision";
        spec.architecture = fullName;
        spec.blockType = known.bottleneck ? "bottleneck" : "basic";
        spec.stageBlocks = known.blocks;
        spec.stageWidths = known.bottleneck ? std::vector<int>{256, 512, 1024, 2048} : std::vector<int>{64, 128, 256, 512};
        spec.stemWidth = 64;
        spec.groups = known.groups;
        spec.widthPerGroup = known.widthPerGroup;
        spec.embedDim = spec.stageWidths.back();
        spec.patchSize = 32;
        spec.depth = 0;
        spec.numHeads = 0;
        spec.mlpHidden = 0;
        spec.classToken = false;
        spec.pooling = "avg";
        spec.numClasses = numClasses;
        spec.preprocessing = Preprocessing::fromTimm({{"input_size", {3, 224, 224}}, {"crop_pct", 0.875}, {"interpolation", "bilinear"}});
        return spec;
    }
    return std::nullopt;
}

ResnetWeights initializeResnetWeights(const ModelSpec& spec, std::uint64_t seed) {
    if (spec.blockType != "basic" && spec.blockType != "bottleneck") {
        throw Error("resnet spec", "block type '" + spec.blockType + "' is neither basic nor bottleneck");
    }
    if (spec.stageBlocks.empty() || spec.stageBlocks.size() != spec.stageWidths.size()) {
        throw Error("resnet spec", "needs as many stage widths as stages");
    }
    torch::NoGradGuard noGrad;
    at::manual_seed(seed);
    auto uniform = [](int64_t n, double lo, double hi) { return at::rand({n}) * (hi - lo) + lo; };
    auto convBn = [&](int64_t in, int64_t out, int64_t kernel, int stride, int groups, bool lastOfBranch) {
        ConvBn c;
        // He initialisation for ReLU networks with fan-out, as torchvision does.
        c.weight = at::randn({out, in / groups, kernel, kernel}) * std::sqrt(2.0 / double(out * kernel * kernel));
        c.bnWeight = lastOfBranch ? uniform(out, 0.1, 0.3) : uniform(out, 0.5, 1.5);
        c.bnBias = at::randn({out}) * 0.1;
        c.runningMean = at::randn({out}) * 0.1;
        c.runningVar = uniform(out, 0.5, 1.5);
        c.stride = stride;
        c.groups = groups;
        return c;
    };
    const bool bottleneck = spec.blockType == "bottleneck";
    ResnetWeights w;
    w.stem = convBn(spec.channels, spec.stemWidth, 7, 2, 1, false);
    int64_t in = spec.stemWidth;
    for (std::size_t s = 0; s < spec.stageBlocks.size(); ++s) {
        const int64_t out = spec.stageWidths[s];
        if (bottleneck && out % 4 != 0) throw Error("resnet spec", "bottleneck stage widths must be multiples of 4");
        const int64_t inner = bottleneck ? (out / 4) * spec.widthPerGroup / 64 * spec.groups : out;
        std::vector<ResnetBlockWeights> stage;
        for (int b = 0; b < spec.stageBlocks[s]; ++b) {
            const int stride = (b == 0 && s > 0) ? 2 : 1;
            ResnetBlockWeights block;
            if (bottleneck) {
                block.convs.push_back(convBn(in, inner, 1, 1, 1, false));
                block.convs.push_back(convBn(inner, inner, 3, stride, spec.groups, false));
                block.convs.push_back(convBn(inner, out, 1, 1, 1, true));
            } else {
                block.convs.push_back(convBn(in, out, 3, stride, 1, false));
                block.convs.push_back(convBn(out, out, 3, 1, 1, true));
            }
            if (stride != 1 || in != out) block.shortcut = convBn(in, out, 1, stride, 1, false);
            stage.push_back(std::move(block));
            in = out;
        }
        w.stages.push_back(std::move(stage));
    }
    if (spec.numClasses > 0) {
        const double bound = 1.0 / std::sqrt(double(in));  // nn.Linear's default
        w.fcWeight = (at::rand({int64_t(spec.numClasses), in}) * 2 - 1) * bound;
        w.fcBias = (at::rand({int64_t(spec.numClasses)}) * 2 - 1) * bound;
    }
    return w;
}

// ---------------------------------------------------------------------------------------------
// The model

namespace {

void forEachConv(ResnetWeights& weights, const std::function<void(ConvBn&)>& visit) {
    visit(weights.stem);
    for (auto& stage : weights.stages) {
        for (auto& block : stage) {
            for (ConvBn& c : block.convs) visit(c);
            if (block.shortcut.weight.defined()) visit(block.shortcut);
        }
    }
}

at::Tensor applyConv(const at::Tensor& x, const ConvBn& c, double eps) {
    const int64_t padRows = c.weight.size(2) / 2, padCols = c.weight.size(3) / 2;
    at::Tensor y = at::conv2d(x, c.weight, c.bias, {c.stride, c.stride}, {padRows, padCols}, {1, 1}, c.groups);
    if (c.bnWeight.defined()) {
        y = at::batch_norm(y, c.bnWeight, c.bnBias, c.runningMean, c.runningVar, /*training=*/false, /*momentum=*/0.0, eps,
                           /*cudnn_enabled=*/true);
    }
    return y;
}

}  // namespace

ResnetModel::ResnetModel(ModelSpec spec, ResnetWeights weights, ResnetNaming naming, const std::string& device, bool foldNorms)
    : m_spec(std::move(spec)), m_weights(std::move(weights)), m_naming(std::move(naming)), m_device(device) {
    // Parameters as torchvision counts them: weights, batch-norm scale and shift, the head
    // (running statistics are buffers).
    int64_t count = 0;
    forEachConv(m_weights, [&](ConvBn& c) {
        count += c.weight.numel();
        if (c.bnWeight.defined()) count += c.bnWeight.numel() + c.bnBias.numel();
        if (c.bias.defined()) count += c.bias.numel();
    });
    if (m_weights.fcWeight.defined()) count += m_weights.fcWeight.numel() + m_weights.fcBias.numel();
    m_spec.parameterCount = count;
    const at::Device target(device);
    forEachConv(m_weights, [&](ConvBn& c) {
        if (foldNorms) foldBatchNorm(c, m_spec.batchNormEps);
        for (at::Tensor* t : {&c.weight, &c.bias, &c.bnWeight, &c.bnBias, &c.runningMean, &c.runningVar}) {
            if (t->defined()) *t = t->to(target);
        }
    });
    if (m_weights.fcWeight.defined()) {
        m_weights.fcWeight = m_weights.fcWeight.to(target);
        m_weights.fcBias = m_weights.fcBias.to(target);
    }
}

c10::Device ResnetModel::device() const { return c10::Device(m_device); }

std::string ResnetModel::featureLayerName(int layer) const {
    if (layer < 0 || layer >= featureLayerCount()) {
        throw Error("feature layer " + std::to_string(layer) + " does not exist: the model has " +
                    std::to_string(featureLayerCount()) + " (stem and " + std::to_string(m_weights.stages.size()) + " stages)");
    }
    return m_naming.featureLayer(layer);
}

at::Tensor ResnetModel::forward(const at::Tensor& pixels, FeatureTap* tap) {
    if (tap && tap->layer >= featureLayerCount()) featureLayerName(tap->layer);  // throws the explanation
    const double eps = m_spec.batchNormEps;
    auto expose = [&](at::Tensor x, int layer) {
        if (!tap || tap->layer != layer) return x;
        // With frozen weights and pixels that need no gradient nothing upstream requires grad;
        // the features then become a leaf of their own so gradients can still be taken.
        if (at::GradMode::is_enabled() && !c10::InferenceMode::is_enabled() && !x.requires_grad()) {
            x = x.detach().requires_grad_(true);
        }
        if (tap->replace) {
            at::Tensor replaced = tap->replace(x);
            if (replaced.sizes() != x.sizes()) {
                throw Error("feature tap on " + featureLayerName(layer) + ": the replacement changed the shape");
            }
            x = replaced;
        }
        tap->features = x;
        return x;
    };
    at::Tensor x = at::relu(applyConv(pixels, m_weights.stem, eps));
    x = expose(at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1}), 0);
    for (std::size_t s = 0; s < m_weights.stages.size(); ++s) {
        for (const ResnetBlockWeights& block : m_weights.stages[s]) {
            at::Tensor branch = x;
            for (std::size_t i = 0; i < block.convs.size(); ++i) {
                branch = applyConv(branch, block.convs[i], eps);
                if (i + 1 < block.convs.size()) branch = at::relu(branch);
            }
            const at::Tensor identity = block.shortcut.weight.defined() ? applyConv(x, block.shortcut, eps) : x;
            x = at::relu(branch + identity);
        }
        x = expose(x, int(s) + 1);
    }
    const at::Tensor pooled = at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    if (!m_weights.fcWeight.defined()) return pooled;
    return at::linear(pooled, m_weights.fcWeight, m_weights.fcBias);
}

ModelOutputs ResnetModel::run(const ImageInput& input, const CaptureRequest&) {
    const std::string subject = input.source.empty() ? "input" : input.source;
    if (input.pixels.size() != std::size_t(m_spec.channels) * input.height * input.width) {
        throw Error(subject, "pixel buffer does not match its size " + std::to_string(input.height) + "x" +
                                 std::to_string(input.width));
    }
    if (input.height < 32 || input.width < 32) {
        throw Error(subject, "size " + std::to_string(input.height) + "x" + std::to_string(input.width) +
                                 " is too small for a ResNet (at least 32x32)");
    }
    const auto start = std::chrono::steady_clock::now();
    ModelOutputs out;
    {
        c10::InferenceMode inference;
        const at::Tensor pixels = torch::from_blob(const_cast<float*>(input.pixels.data()),
                                                   {1, m_spec.channels, input.height, input.width}, at::kFloat)
                                      .to(at::Device(m_device));
        const at::Tensor logits = forward(pixels).select(0, 0).to(at::kCPU, at::kFloat).contiguous();
        out.logits.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
    }
    out.attention.modelLayers = 0;
    out.attention.modelHeads = 0;
    out.forwardMilliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

}  // namespace fovea
