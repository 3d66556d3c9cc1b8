// Explanations over tokens for language models (GPT-2, BERT; CLIP's text tower has its own in
// clip_relevance.h): one score per position for a classification target (BERT) or a next-token
// / masked-token target at a position (GPT-2, masked LM). The methods are the registry's
// (core/explain/explainer.h: Explainer::explainsTokens() says which), applied to tokens:
//   raw, rollout, chefer            over the captured attention (the query row: the explained
//                                   position, or the first token for a classifier);
//   input-x-gradient               Σ_d e_td ∂y/∂e_td on the token embeddings (Shrikumar 2016);
//   integrated-gradients           IG from the zero embedding (Sundararajan 2017), with the
//                                   completeness gap Σ attributions − (f(x) − f(0)) noted.
//
//     TextExplanation e = explainTokens(*model, input, "integrated-gradients", {{"steps", 64}});
//     for (int t = 0; t < e.tokens.size(); ++t) std::cout << e.tokens[t].label() << " " << e.scores[t];
#pragma once

#include "core/explain/explainer.h"
#include "core/model/model.h"
#include "core/util/progress.h"

#include <string>
#include <utility>
#include <vector>

namespace fovea {

struct TextExplanation {
    std::vector<float> scores;  // one per position
    TokenLayout tokens;
    std::string method;
    int target = -1;    // the class or vocabulary token explained
    int position = -1;  // the position whose output was explained (-1: a sequence classifier)
    int query = -1;     // attention methods: the query row used
    std::vector<std::pair<std::string, double>> notes;  // completeness gap, ...
};

// Names of the registry's methods that explain tokens, in registry order.
std::vector<std::string> textExplainerNames();
// The parameters a method takes on tokens (defaults, ranges).
std::vector<ExplainerParam> textExplainerParameters(const std::string& method);

// target: class / token id (-1: the top-1 output); position: which position's output (-1: the
// last real one; ignored by classifiers). Throws Error for methods that do not explain tokens,
// models without a text path, unknown parameters and out-of-range targets.
TextExplanation explainTokens(Model& model, const TextInput& input, const std::string& method, const ExplainParams& given = {},
                              int target = -1, int position = -1, Progress* progress = nullptr);

// The explained score with token t's embedding scaled by scales[t] (1: as is, 0: the zero
// baseline): what integrated gradients integrates along, and a finite-difference probe.
double scoreWithScaledEmbeddings(Model& model, const TextInput& input, const std::vector<float>& scales, int target,
                                 int position = -1);

}  // namespace fovea
