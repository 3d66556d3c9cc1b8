// Internal (core .cpp files only): the native LibTorch CLIP. The vision tower is Fovea's ViT
// (VitModel with CLIP's ln_pre, QuickGELU, ln_post on the class token and a bias-free
// projection as its head); the text tower is the shared causal text transformer with
// QuickGELU, a final LayerNorm, pooling at the end-of-text token and a bias-free projection.
// The similarity is exp(logit_scale) * cos(image embedding, text embedding).
//
// Reference: Radford et al., "Learning Transferable Visual Models From Natural Language
// Supervision" (ICML 2021).
#pragma once

#include "core/model/differentiable_text.h"
#include "core/model/model.h"
#include "core/model/vit.h"

#include <memory>
#include <vector>

namespace fovea {

struct ClipTextWeights {
    at::Tensor tokenEmbedding;     // [V, Dt]
    at::Tensor positionEmbedding;  // [context, Dt]
    std::vector<VitBlockWeights> blocks;
    at::Tensor finalNormWeight, finalNormBias;
    at::Tensor projection;  // Linear weight [E, Dt]
    at::Tensor logitScale;  // scalar (log of the temperature's inverse)
};

class ClipModel final : public Model, public DifferentiableTextModel {
public:
    // `visionSpec` describes the vision tower as a ViT; `spec` the whole model.
    ClipModel(ModelSpec spec, ModelSpec visionSpec, VitWeights vision, ClipTextWeights text, const std::string& device);

    const ModelSpec& spec() const override { return m_spec; }
    bool accepts(InputKind) const override { return true; }
    TokenLayout tokenLayout(int height, int width) const override { return m_vision->tokenLayout(height, width); }
    // The image alone: logits and imageEmbeds are the projected image embedding.
    ModelOutputs run(const ImageInput& input, const CaptureRequest& request) override;
    // The text alone: logits and textEmbeds are the projected text embedding; the text tower's
    // attention is in textAttention.
    ModelOutputs runText(const TextInput& input, const CaptureRequest& request) override;
    // Both: logits = [similarity]; gradients (when asked) are of the similarity, for both stacks.
    ModelOutputs runImageText(const ImageInput& image, const TextInput& text, const CaptureRequest& request) override;
    std::string deviceName() const override { return m_device; }
    DifferentiableModel* differentiable() override { return m_vision.get(); }

    // DifferentiableTextModel: outputs are the projected text embedding [B, E] (features).
    c10::Device device() const override { return c10::Device(m_device); }
    at::Tensor tokenEmbeddings(const TextInput& input) override;
    at::Tensor outputsFromEmbeddings(const at::Tensor& embeddings, const TextInput& input,
                                     ForwardCapture* capture = nullptr, at::Tensor* hidden = nullptr) override;

    VitModel& vision() { return *m_vision; }
    // Where the text tower pools: the first end-of-text token, or (OpenAI's rule) the highest id.
    int poolingPosition(const TextInput& input) const;
    // exp(logit_scale) * cos: [B] from image [B, E] and text [B, E] embeddings.
    at::Tensor similarity(const at::Tensor& imageEmbeds, const at::Tensor& textEmbeds) const;
    // Head interventions: setHeadScales is the vision tower's (ModelOutputs::attention),
    // setTextHeadScales the text tower's (ModelOutputs::textAttention).
    void setHeadScales(const HeadScales& scales) override { m_vision->setHeadScales(scales); }
    HeadScales headScales() const override { return m_vision->headScales(); }
    void setTextHeadScales(const HeadScales& scales) override;
    HeadScales textHeadScales() const override;
    void resetHeadScales() override;

private:
    ModelSpec m_spec;
    std::unique_ptr<VitModel> m_vision;
    ClipTextWeights m_text;
    std::string m_device;
    HeadScales m_textHeadScales;  // empty: no intervention
};

}  // namespace fovea
