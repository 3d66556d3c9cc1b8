// Internal (core .cpp files only): what the text explainers (gradient x input, integrated
// gradients over token embeddings) need from a language model, whatever its family.
//
//     DifferentiableTextModel* net = model.differentiableText();     // nullptr: not supported
//     at::Tensor embeddings = net->tokenEmbeddings(input);           // [1, T, D], the lookup only
//     at::Tensor outputs = net->outputsFromEmbeddings(embeddings, input);  // [B, T, V] or [B, C]
//     TextTarget target = resolveTextTarget(outputs, input, -1, -1); // top-1 at the last position
//     at::Tensor score = targetScores(outputs, target);              // [B]
//
// The token embeddings are the word (token) embedding lookup alone, before position and
// segment embeddings are added: the point attributions are taken at, as Captum's
// LayerIntegratedGradients on `word_embeddings` does for BERT.
#pragma once

#include "core/model/text_input.h"
#include "core/model/vit.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace fovea {

class DifferentiableTextModel {
public:
    virtual ~DifferentiableTextModel() = default;
    virtual c10::Device device() const = 0;
    // [1, T, D] token embeddings of the input (detached from the weights' gradients).
    virtual at::Tensor tokenEmbeddings(const TextInput& input) = 0;
    // From token embeddings [B, T, D] (the input supplies positions, segments and the mask) to
    // the outputs: [B, T, V] when the model has an output per position (GPT-2, masked LM),
    // [B, C] otherwise (classification). Differentiable in the embeddings and the captured
    // attention; the weights are never updated here. `hidden`, when given, receives the final
    // hidden states [B, T, D].
    virtual at::Tensor outputsFromEmbeddings(const at::Tensor& embeddings, const TextInput& input,
                                             ForwardCapture* capture = nullptr, at::Tensor* hidden = nullptr) = 0;
};

// Which output an explanation explains: `index` (a class, or a vocabulary token) at `position`
// (per-position outputs only; -1 otherwise).
struct TextTarget {
    int index = -1;
    int position = -1;
};

// Resolves -1s: position -> the last real position; index -> the top-1 output there.
// Throws Error for an index or position out of range.
TextTarget resolveTextTarget(const at::Tensor& outputs, const TextInput& input, int index, int position);
// outputs[:, position, index] or outputs[:, index]: [B].
at::Tensor targetScores(const at::Tensor& outputs, const TextTarget& target);

}  // namespace fovea
