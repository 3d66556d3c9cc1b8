// Internal (core .cpp files only): the native LibTorch ResNet (ResNet-18/34/50/101/152 and any
// other stack of basic or bottleneck residual blocks, ResNeXt-style grouped 3x3 convolutions
// included), the CNN that Grad-CAM users bring. Inference uses batch norm in eval mode (running
// statistics), folded into the convolutions when the model is built.
//
//     std::unique_ptr<Model> model = openModel("checkpoints/resnet50");   // torchvision, timm or HF
//     DifferentiableModel* net = model->differentiable();
//     FeatureTap tap;
//     tap.layer = net->defaultFeatureLayer();                             // "layer4": [B, 2048, 7, 7]
//     at::Tensor logits = net->logits(pixels, &tap);
//
// Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition" (CVPR 2016).
// The bottleneck block strides on its 3x3 convolution ("ResNet v1.5", as torchvision and timm
// do), unless a Hugging Face config asks for the original stride on the first 1x1.
#pragma once

#include "core/io/safetensors.h"
#include "core/model/differentiable.h"
#include "core/model/model.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fovea {

// A bias-free convolution followed by batch norm (every convolution of a ResNet is one).
struct ConvBn {
    at::Tensor weight;  // [out, in / groups, k, k]; padding is k / 2
    at::Tensor bnWeight, bnBias, runningMean, runningVar;  // [out]; undefined once folded
    at::Tensor bias;    // [out]: defined once batch norm is folded into the weight
    int stride = 1;
    int groups = 1;
};

// Replaces batch norm (eval mode) by an exact rescaling of the weight and a bias, computed in
// float64: w' = w * g / sqrt(v + eps), b' = beta - m * g / sqrt(v + eps).
void foldBatchNorm(ConvBn& conv, double eps);

struct ResnetBlockWeights {
    std::vector<ConvBn> convs;  // the residual branch: 2 (basic) or 3 (bottleneck), ReLU between
    ConvBn shortcut;            // 1x1 projection; weight undefined for the identity
};

struct ResnetWeights {
    ConvBn stem;  // 7x7 stride 2, then a 3x3 max pool with stride 2
    std::vector<std::vector<ResnetBlockWeights>> stages;
    at::Tensor fcWeight, fcBias;  // undefined without a classification head
};

// Tensor names in one checkpoint layout: "torchvision" / "timm" (conv1, bn1, layer1.0.conv1,
// layer1.0.downsample.0, fc) or "huggingface" (resnet.embedder.embedder.convolution,
// resnet.encoder.stages.0.layers.0.layer.0.normalization, classifier.1).
class ResnetNaming {
public:
    // prefix: "resnet." for ResNetForImageClassification, "" for a bare ResNetModel (HF only).
    ResnetNaming(std::string layout, std::string prefix = "resnet.");
    bool huggingFace() const { return m_huggingFace; }
    // Convolution weight names; the batch norm's tensors are norm(...) + "weight", "bias",
    // "running_mean", "running_var", "num_batches_tracked".
    std::string stemConv() const;
    std::string stemNorm() const;
    std::string conv(int stage, int block, int index) const;  // index 0.. along the branch
    std::string norm(int stage, int block, int index) const;
    std::string shortcutConv(int stage, int block) const;
    std::string shortcutNorm(int stage, int block) const;
    std::string fcWeight() const;
    std::string fcBias() const;
    // Feature layer 0 is the stem's output (after the max pool), layer s + 1 stage s's output.
    std::string featureLayer(int layer) const;

private:
    std::string block(int stage, int block) const;
    bool m_huggingFace = false;
    std::string m_prefix;
};

// Every defined tensor of unfolded weights under its name in `naming`'s layout.
std::vector<std::pair<std::string, at::Tensor*>> namedResnetTensors(ResnetWeights& weights, const ResnetNaming& naming);

// The spec of a torchvision architecture name: resnet18/34/50/101/152, resnext50_32x4d,
// resnext101_32x8d, wide_resnet50_2, wide_resnet101_2 (with or without a ".tag"); nothing for
// other names. Preprocessing is torchvision's (resize 256, centre crop 224, bilinear).
std::optional<ModelSpec> specFromResnetName(const std::string& name, int numClasses = 1000);

// Random weights with the spec's shape (blockType, stageBlocks, stageWidths, stemWidth, groups,
// widthPerGroup, channels, numClasses), torchvision's stride placement. Convolutions are
// He-normal; batch norms get random affine parameters and running statistics so none is the
// identity, and the last norm of each branch a small scale so deep stacks stay finite.
ResnetWeights initializeResnetWeights(const ModelSpec& spec, std::uint64_t seed);

class ResnetModel final : public Model, public DifferentiableModel {
public:
    // `naming` gives the feature layers their checkpoint names. Folds batch norm into the
    // convolutions unless told not to (tests compare both).
    ResnetModel(ModelSpec spec, ResnetWeights weights, ResnetNaming naming, const std::string& device,
                bool foldNorms = true);

    const ModelSpec& spec() const override { return m_spec; }
    TokenLayout tokenLayout(int, int) const override { return TokenLayout(); }
    // Logits only: attention requests are ignored (the stack comes back empty, 0 layers).
    ModelOutputs run(const ImageInput& input, const CaptureRequest& request) override;
    std::string deviceName() const override { return m_device; }
    DifferentiableModel* differentiable() override { return this; }

    // pixels [B, C, H, W] on the model's device -> logits [B, classes] (pooled features without
    // a head). Differentiable.
    at::Tensor forward(const at::Tensor& pixels, FeatureTap* tap = nullptr);
    c10::Device device() const override;
    at::Tensor logits(const at::Tensor& pixels, FeatureTap* tap = nullptr) override { return forward(pixels, tap); }
    // Layer 0: the stem after max pooling; layer s + 1: stage s ("layer4" is the last of four).
    int featureLayerCount() const override { return int(m_weights.stages.size()) + 1; }
    int defaultFeatureLayer() const override { return int(m_weights.stages.size()); }
    std::string featureLayerName(int layer) const override;

private:
    ModelSpec m_spec;
    ResnetWeights m_weights;
    ResnetNaming m_naming;
    std::string m_device;
};

}  // namespace fovea
