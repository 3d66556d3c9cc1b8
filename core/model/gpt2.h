// Internal (core .cpp files only): the native LibTorch GPT-2 (Hugging Face GPT2LMHeadModel /
// GPT2Model layouts). Causal self-attention, pre-LayerNorm blocks, the tanh GELU ("gelu_new"),
// a final LayerNorm, and the language-model head tied to the token embeddings unless the
// checkpoint has its own lm_head. Conv1D weights ([in, out]) are transposed on load.
//
// Reference: Radford et al., "Language Models are Unsupervised Multitask Learners" (2019).
#pragma once

#include "core/model/differentiable_text.h"
#include "core/model/model.h"
#include "core/model/vit.h"

#include <map>
#include <string>
#include <vector>

namespace fovea {

struct Gpt2Weights {
    at::Tensor tokenEmbedding;     // wte [V, D]
    at::Tensor positionEmbedding;  // wpe [P, D]
    std::vector<VitBlockWeights> blocks;
    at::Tensor finalNormWeight, finalNormBias;
    at::Tensor lmHead;  // [V, D]; undefined: tied to tokenEmbedding

    // Every defined tensor with its Hugging Face GPT2LMHeadModel name; Conv1D weights are
    // stored transposed there, which saveSafetensors takes care of.
    std::vector<std::pair<std::string, at::Tensor*>> namedTensors();
};

// GPT-2 initialisation (normal 0.02, residual projections scaled by 1/sqrt(2 * layers)).
Gpt2Weights initializeGpt2Weights(const ModelSpec& spec, std::uint64_t seed);
// The spec of a GPT2LMHeadModel with these sizes (for training and tests).
ModelSpec gpt2Spec(int vocab, int context, int width, int layers, int heads);

class Gpt2Model final : public Model, public DifferentiableTextModel {
public:
    Gpt2Model(ModelSpec spec, Gpt2Weights weights, const std::string& device);

    const ModelSpec& spec() const override { return m_spec; }
    bool accepts(InputKind kind) const override { return kind == InputKind::Text; }
    TokenLayout tokenLayout(int, int) const override { return {}; }
    ModelOutputs run(const ImageInput& input, const CaptureRequest& request) override;
    ModelOutputs runText(const TextInput& input, const CaptureRequest& request) override;
    std::string deviceName() const override { return m_device; }
    DifferentiableTextModel* differentiableText() override { return this; }

    c10::Device device() const override { return c10::Device(m_device); }
    at::Tensor tokenEmbeddings(const TextInput& input) override;
    at::Tensor outputsFromEmbeddings(const at::Tensor& embeddings, const TextInput& input,
                                     ForwardCapture* capture = nullptr, at::Tensor* hidden = nullptr) override;
    // ids [B, T] (no padding) -> next-token logits [B, T, V]; for training.
    at::Tensor logitsForIds(const at::Tensor& ids, ForwardCapture* capture = nullptr);

    // Head masking / scaling (Model), applied inside the shared text stack.
    void setHeadScales(const HeadScales& scales) override;
    HeadScales headScales() const override;
    void resetHeadScales() override { m_headScales = HeadScales{}; }
    Gpt2Weights& weights() { return m_weights; }
    void saveSafetensors(const std::string& path, const std::map<std::string, std::string>& metadata) const;

private:
    at::Tensor forwardEmbeddings(const at::Tensor& tokenEmbeddings, const at::Tensor& allowed, ForwardCapture* capture,
                                 at::Tensor* hidden);

    ModelSpec m_spec;
    Gpt2Weights m_weights;
    std::string m_device;
    HeadScales m_headScales;  // empty: no intervention
};

}  // namespace fovea
