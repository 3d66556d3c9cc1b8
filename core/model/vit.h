// Internal (core .cpp files only): the native LibTorch Vision Transformer (ViT, DeiT, DINO,
// DINOv2 with registers). One functional implementation serves inference with attention
// capture, gradient capture and training (the weights are plain tensors, so the optimiser can
// update them in place).
//
// References: Dosovitskiy et al., "An Image is Worth 16x16 Words" (ICLR 2021); Touvron et al.,
// "Training data-efficient image transformers & distillation through attention" (ICML 2021,
// distillation token); Darcet et al., "Vision Transformers Need Registers" (ICLR 2024).
#pragma once

#include "core/io/safetensors.h"
#include "core/model/differentiable.h"
#include "core/model/model.h"

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace fovea {

struct VitBlockWeights {
    at::Tensor norm1Weight, norm1Bias;
    at::Tensor qkvWeight, qkvBias;  // [3D, D], [3D] (q, k, v stacked as timm stores them)
    at::Tensor projWeight, projBias;
    at::Tensor norm2Weight, norm2Bias;
    at::Tensor fc1Weight, fc1Bias, fc2Weight, fc2Bias;
    at::Tensor layerScale1, layerScale2;  // undefined without LayerScale
};

struct VitWeights {
    at::Tensor patchWeight, patchBias;  // conv [D, C, P, P], [D]
    at::Tensor classToken, distillationToken, registerTokens;  // [1, n, D], undefined when absent
    at::Tensor positionEmbedding;                               // [1, T, D]
    at::Tensor preNormWeight, preNormBias;  // CLIP: LayerNorm after the embeddings (ln_pre)
    std::vector<VitBlockWeights> blocks;
    at::Tensor normWeight, normBias;      // final norm (undefined with fc_norm)
    at::Tensor fcNormWeight, fcNormBias;  // norm after pooling (avg pooling)
    at::Tensor headWeight, headBias;
    at::Tensor headDistWeight, headDistBias;

    // Every defined tensor with its timm name (the layout Fovea saves in).
    std::vector<std::pair<std::string, at::Tensor*>> namedTensors();
};

// The spec a well-known timm architecture name implies (vit_base_patch16_224, deit_small_distilled_patch16_224,
// vit_small_patch14_reg4_dinov2, ...), or nothing for names outside the table.
std::optional<ModelSpec> specFromTimmName(const std::string& name, int numClasses = 1000);

// Random initialisation as timm does for training from scratch (truncated normal 0.02).
VitWeights initializeVitWeights(const ModelSpec& spec, std::uint64_t seed);

// What a forward pass should keep, per layer.
struct ForwardCapture {
    std::vector<bool> layers;           // layers[l]: keep the attention of layer l
    std::vector<at::Tensor> attention;  // filled: [B, H, N, N] for kept layers, undefined otherwise
    bool keepKeys = false, keepQueries = false, keepValues = false;  // also keep k / q / v of the kept layers
    std::vector<at::Tensor> keys, queries, values;                    // filled: [B, H, N, headDim] (unscaled)
    bool retainGradients = false;       // call retain_grad() on kept attention
    // Optional, for tests: added to the attention of layer l right after the softmax, before
    // it is kept or used ([B, H, N, N]); lets finite differences check captured gradients.
    std::vector<at::Tensor> attentionOffset;
};

// Copies one captured layer (batch item `item`, the selected heads) into torch-free storage; the
// gradient too when asked (it must have been retained). Shared by every transformer family.
AttentionLayer storeAttentionLayer(int layer, const at::Tensor& attention, const std::vector<int>& heads,
                                   AttentionPrecision precision, bool withGradient, int item = 0);
// [B, H, N, hd] (batch item `item`) -> [N, H * hd] row-major float32: the heads side by side.
std::vector<float> storeTokenVectors(const at::Tensor& perHead, int item = 0);
// The MLP activation a spec names: exact GELU, GPT-2's tanh approximation, or CLIP's QuickGELU.
at::Tensor applyActivation(const at::Tensor& x, const std::string& activation);

class VitModel final : public Model, public DifferentiableModel {
public:
    VitModel(ModelSpec spec, VitWeights weights, const std::string& device);

    const ModelSpec& spec() const override { return m_spec; }
    TokenLayout tokenLayout(int height, int width) const override;
    ModelOutputs run(const ImageInput& input, const CaptureRequest& request) override;
    // Images of one size in one forward pass (without gradients); otherwise one at a time.
    std::vector<ModelOutputs> runBatch(const std::vector<ImageInput>& inputs, const CaptureRequest& request) override;
    std::string deviceName() const override { return m_device; }

    // pixels [B, C, H, W] on the model's device -> logits [B, classes]. Differentiable.
    at::Tensor forward(const at::Tensor& pixels, ForwardCapture* capture = nullptr, FeatureTap* tap = nullptr);
    DifferentiableModel* differentiable() override { return this; }
    // DifferentiableModel: feature layer l is the token sequence entering block l (the input of
    // its norm1), patch tokens on the patch grid.
    c10::Device device() const override;
    at::Tensor logits(const at::Tensor& pixels, FeatureTap* tap = nullptr) override { return forward(pixels, nullptr, tap); }
    int featureLayerCount() const override { return m_spec.depth; }
    int defaultFeatureLayer() const override { return m_spec.depth - 1; }
    std::string featureLayerName(int layer) const override;
    VitWeights& weights() { return m_weights; }

    // Head interventions (Model): the factors live on the device as an [L, H] tensor that
    // forward() applies; none is kept while the scales are the identity.
    void setHeadScales(const HeadScales& scales) override;
    HeadScales headScales() const override;
    void resetHeadScales() override { setHeadScales(HeadScales{}); }
    // Internal entry points for head importance (core/heads/importance.cpp), which caches the
    // tokens entering each block and restarts from the block of the masked head:
    // the tokens entering block 0, [B, N, D].
    at::Tensor embedTokens(const at::Tensor& pixels);
    // Blocks `first` .. depth-1 and the classifier from `tokens` (the tokens entering block
    // `first`). `scales`: head factors [L, H], or one set per batch item [B, L, H] (may require
    // grad, for the gradient proxy of Michel et al.); undefined: the model's own. `layerInputs`,
    // when given, is filled with the tokens entering each block l >= first (index l).
    at::Tensor logitsFromLayer(const at::Tensor& tokens, int first, const at::Tensor& scales,
                               std::vector<at::Tensor>* layerInputs = nullptr);
    // Position embeddings for a gh x gw patch grid (bicubic resampling when it differs from the
    // training grid, the way the checkpoint's own library does it).
    at::Tensor positionEmbeddingFor(int gridRows, int gridCols);
    void saveSafetensors(const std::string& path, const std::map<std::string, std::string>& metadata) const;

private:
    void checkInput(const ImageInput& input) const;
    // The captured layers of batch item `item` as run() reports them.
    void storeCapture(ModelOutputs& out, const ForwardCapture& capture, const CaptureRequest& request,
                      const std::vector<int>& layers, const std::vector<int>& heads, int item) const;
    at::Tensor embed(const at::Tensor& pixels);
    at::Tensor head(const at::Tensor& tokens);
    at::Tensor runBlocks(at::Tensor x, int first, const at::Tensor& scales, ForwardCapture* capture, FeatureTap* tap,
                         int64_t gridRows, int64_t gridCols, std::vector<at::Tensor>* layerInputs);

    ModelSpec m_spec;
    VitWeights m_weights;
    std::string m_device;
    std::map<std::pair<int, int>, at::Tensor> m_resampledPositions;
    HeadScales m_headScales;        // empty: no intervention
    at::Tensor m_headScaleTensor;   // [L, H] on the device; undefined: no intervention
};

}  // namespace fovea
