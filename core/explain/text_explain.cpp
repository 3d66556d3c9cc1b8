#include "core/explain/text_explain.h"

#include "core/explain/attention_maps.h"
#include "core/model/differentiable_text.h"
#include "core/model/text_transformer.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace fovea {

namespace {

const ExplainerParam kQuery{"query", -1, -1, 1e6, true, "query token (sequence index); -1: the explained position (or the first token)"};
const ExplainerParam kHead{"head", -1, -1, 1024, true, "one head; -1: the mean of the heads"};

DifferentiableTextModel& textNet(Model& model, const std::string& method) {
    DifferentiableTextModel* net = model.differentiableText();
    if (!net || !model.accepts(InputKind::Text)) {
        throw Error("method " + method, model.spec().architecture + " has no text path to explain (GPT-2 and BERT do)");
    }
    return *net;
}

TextInput fitted(const Model& model, const TextInput& input) {
    TextInput copy = input;
    fitTextInput(copy, model.spec(), ContextOverflow::Refuse);
    return copy;
}

// The embeddings path for a batch of scaled copies: [B, T, D] = scales[B, T, 1] * e.
at::Tensor scaledOutputs(DifferentiableTextModel& net, const TextInput& input, const at::Tensor& embeddings) {
    const int64_t batch = embeddings.size(0);
    TextInput batched = input;  // positions, types and mask are shared by every copy
    (void)batch;
    return net.outputsFromEmbeddings(embeddings, batched);
}

// Gradients of the target score with respect to token embeddings, for a batch of embeddings.
at::Tensor embeddingGradients(DifferentiableTextModel& net, const TextInput& input, const at::Tensor& embeddings, const TextTarget& target) {
    const at::Tensor leaf = embeddings.detach().clone().requires_grad_(true);
    const at::Tensor outputs = scaledOutputs(net, input, leaf);
    return torch::autograd::grad({targetScores(outputs, target).sum()}, {leaf})[0];
}

int defaultQuery(const TextExplanation& e, const ExplainParams& params, const TokenLayout& tokens) {
    int query = int(params.at("query"));
    if (query < 0) query = e.position >= 0 ? e.position : 0;
    if (query >= tokens.size()) {
        throw Error("query token " + std::to_string(query) + " does not exist: the input has " + std::to_string(tokens.size()) + " tokens");
    }
    return query;
}

}  // namespace

std::vector<std::string> textExplainerNames() { return {"raw", "rollout", "chefer", "input-x-gradient", "integrated-gradients"}; }

std::vector<ExplainerParam> textExplainerParameters(const std::string& method) {
    if (method == "raw") return {{"layer", -1, -1, 1024, true, "layer; -1: the last"}, kHead, kQuery};
    if (method == "rollout") return {{"discard", 0.0, 0.0, 0.99, false, "fraction of the smallest weights dropped per layer"}, kHead, kQuery};
    if (method == "chefer") return {kQuery};
    if (method == "input-x-gradient") return {};
    if (method == "integrated-gradients") return {{"steps", 64, 1, 4096, true, "points of the Riemann sum along the path (from the zero embedding)"}};
    throw Error("method " + method, "does not explain tokens (methods that do: raw, rollout, chefer, input-x-gradient, integrated-gradients)");
}

double scoreWithScaledEmbeddings(Model& model, const TextInput& given, const std::vector<float>& scales, int target, int position) {
    DifferentiableTextModel& net = textNet(model, "scaled embeddings");
    const TextInput input = fitted(model, given);
    if (int(scales.size()) != input.size()) throw Error("scaled embeddings: need one scale per token");
    c10::InferenceMode inference;
    const at::Tensor e = net.tokenEmbeddings(input);
    const at::Tensor factors = at::tensor(scales).to(e.device()).reshape({1, -1, 1});
    const at::Tensor reference = net.outputsFromEmbeddings(e, input);
    const TextTarget resolved = resolveTextTarget(reference, input, target, position);
    return targetScores(net.outputsFromEmbeddings(e * factors, input), resolved).item<double>();
}

TextExplanation explainTokens(Model& model, const TextInput& given, const std::string& method, const ExplainParams& givenParams,
                              int target, int position, Progress* progress) {
    const std::vector<ExplainerParam> known = textExplainerParameters(method);
    ExplainParams params;
    for (const ExplainerParam& p : known) params[p.name] = p.defaultValue;
    for (const auto& [name, value] : givenParams) {
        const auto found = std::find_if(known.begin(), known.end(), [&](const ExplainerParam& p) { return p.name == name; });
        if (found == known.end()) throw Error("method " + method, "has no parameter '" + name + "' on tokens");
        if (value < found->minimum || value > found->maximum) throw Error("method " + method, "parameter '" + name + "' is out of range");
        params[name] = value;
    }
    DifferentiableTextModel& net = textNet(model, method);
    const TextInput input = fitted(model, given);
    TextExplanation e;
    e.method = method;
    e.tokens = input.tokens;

    // The target: resolved once from a plain forward pass.
    at::Tensor embeddings;
    TextTarget resolved;
    {
        c10::InferenceMode inference;
        embeddings = net.tokenEmbeddings(input);
        const at::Tensor outputs = net.outputsFromEmbeddings(embeddings, input);
        resolved = resolveTextTarget(outputs, input, target, position);
    }
    embeddings = embeddings.clone();
    e.target = resolved.index;
    e.position = resolved.position;

    if (method == "raw" || method == "rollout" || method == "chefer") {
        CaptureRequest request;
        request.precision = AttentionPrecision::Float32;
        request.gradients = method == "chefer";
        request.gradientTarget = e.target;
        request.gradientPosition = e.position;
        const ModelOutputs out = model.runText(input, request);
        e.query = defaultQuery(e, params, input.tokens);
        const int n = input.size();
        std::vector<float> matrix;
        HeadSelection heads;
        if (params.count("head") && params.at("head") >= 0) {
            heads.fusion = HeadFusion::Single;
            heads.head = int(params.at("head"));
        }
        if (method == "raw") {
            int layer = int(params.at("layer"));
            if (layer < 0) layer = out.attention.modelLayers - 1;
            matrix = fuseHeads(out.attention.layer(layer), heads);
        } else if (method == "rollout") {
            matrix = rolloutMatrix(out.attention, heads, float(params.at("discard")));
        } else {
            matrix = cheferRelevanceMatrix(out.attention);
        }
        e.scores.assign(matrix.begin() + std::ptrdiff_t(e.query) * n, matrix.begin() + std::ptrdiff_t(e.query + 1) * n);
        return e;
    }

    if (method == "input-x-gradient") {
        const at::Tensor gradients = embeddingGradients(net, input, embeddings, resolved);
        e.scores = toFloatVector((embeddings * gradients).sum(-1).select(0, 0));
        return e;
    }

    // Integrated gradients from the zero embedding, midpoint Riemann sum.
    const int steps = int(params.at("steps"));
    at::Tensor sum = at::zeros_like(embeddings);
    const int batch = 16;
    for (int first = 0; first < steps; first += batch) {
        const int count = std::min(batch, steps - first);
        const at::Tensor alphas = (at::arange(first, first + count, at::TensorOptions().dtype(at::kFloat)).to(embeddings.device()) + 0.5) / steps;
        const at::Tensor path = alphas.view({-1, 1, 1}) * embeddings;  // [count, T, D]
        sum += embeddingGradients(net, input, path, resolved).sum(0, true);
        if (progress && !progress->update(double(first + count) / steps, "integrated gradients")) throw Cancelled();
    }
    const at::Tensor attribution = (embeddings * sum / steps).sum(-1).select(0, 0);
    e.scores = toFloatVector(attribution);
    double total = 0.0;
    for (float s : e.scores) total += s;
    const double atInput = scoreWithScaledEmbeddings(model, input, std::vector<float>(std::size_t(input.size()), 1.0f), e.target, e.position);
    const double atBaseline = scoreWithScaledEmbeddings(model, input, std::vector<float>(std::size_t(input.size()), 0.0f), e.target, e.position);
    const double delta = atInput - atBaseline;
    e.notes = {{"steps", double(steps)},
               {"attribution_sum", total},
               {"score_difference", delta},
               {"completeness_gap", std::abs(total - delta) / std::max(std::abs(delta), 1e-12)}};
    return e;
}

}  // namespace fovea
