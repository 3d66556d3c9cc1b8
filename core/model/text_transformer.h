// Internal (core .cpp files only): the transformer stack the text families share (GPT-2, BERT,
// CLIP's text tower), and the run loop that turns a TextInput into ModelOutputs with attention
// capture, masks and gradients. Blocks reuse the ViT's weight struct: norm1 / qkv / proj /
// norm2 / fc1 / fc2 mean the same in every family; only the order of the norms differs.
//
//     TransformerStackOptions options{heads, eps, "gelu_tanh", /*preNorm*/ true};
//     at::Tensor allowed = attentionAllowed(input, /*causal*/ true, device);   // [1, 1, T, T]
//     at::Tensor y = runTransformerStack(x, blocks, options, allowed, &capture);
//
// References: Vaswani et al. 2017 (attention); Radford et al. 2019 (GPT-2, pre-LayerNorm);
// Devlin et al. 2019 (BERT, post-LayerNorm).
#pragma once

#include "core/model/differentiable_text.h"
#include "core/model/vit.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace fovea {

struct TransformerStackOptions {
    int heads = 1;
    double layerNormEps = 1e-5;
    std::string activation = "gelu";
    bool preNorm = true;  // false: BERT's post-LayerNorm blocks
};

// Which (query, key) pairs attention may use: [1, 1, T, T] bool on `device`; padding keys
// (attentionMask 0) and, when causal, future keys are false; a row left with no key at all keeps
// its own diagonal entry. Undefined when nothing is masked.
at::Tensor attentionAllowed(const TextInput& input, bool causal, const c10::Device& device);

// x [B, T, D] through the blocks. Masked scores are set to -inf before the softmax, so masked
// entries are exactly zero; every row keeps at least its own (or a real) key.
at::Tensor runTransformerStack(at::Tensor x, const std::vector<VitBlockWeights>& blocks,
                               const TransformerStackOptions& options, const at::Tensor& allowed,
                               ForwardCapture* capture, const std::vector<float>* headScales = nullptr);

// What a text family keeps for setHeadScales: empty while the scales are the identity (so the
// stack runs untouched); throws fovea::Error when the shape is not layers x heads.
HeadScales keptHeadScales(const HeadScales& scales, int layers, int heads, const std::string& subject);

// ids (or token types) as an int64 [1, T] tensor on `device`.
at::Tensor tokenTensor(const std::vector<std::int64_t>& values, const c10::Device& device);

// A float tensor as a flat vector (CPU copy).
std::vector<float> toFloatVector(const at::Tensor& tensor);

// The whole run for a text model: checks the input against the context and the capture
// budget, runs (with gradients for the request's target when asked), stores the attention
// (with the masks) and the outputs. `layers`/`heads` are the text transformer's counts.
ModelOutputs runTextModel(DifferentiableTextModel& net, const ModelSpec& spec, const TextInput& input,
                          const CaptureRequest& request, int layers, int heads, int width, bool causal);

}  // namespace fovea
