// Attention-based explanation methods and their registry.
//   raw attention; attention rollout: Abnar & Zuidema, "Quantifying Attention Flow in
//   Transformers", ACL 2020; attention flow: the same paper, computed exactly (attention_flow.cpp);
//   gradient rollout: J. Gildenblat, vit-explain (2020);
//   generic relevance: Chefer, Gur & Wolf, "Generic Attention-model Explainability for
//   Interpreting Bi-Modal and Encoder-Decoder Transformers", ICCV 2021.
#include "core/explain/explainer.h"

#include "core/explain/attention_flow.h"
#include "core/explain/attention_maps.h"
#include "core/explain/model_methods.h"
#include "core/explain/text_explain.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace fovea {
namespace {

int queryOf(const AttentionStack& stack, const ExplainParams& params) {
    const auto found = params.find("query");
    int query = found == params.end() ? -1 : int(found->second);
    if (query < 0) query = std::max(0, stack.tokens.firstOf(TokenKind::Cls));
    if (query >= stack.tokens.size()) {
        throw Error("query token " + std::to_string(query) + " does not exist: the input has " +
                    std::to_string(stack.tokens.size()) + " tokens");
    }
    return query;
}

HeadSelection headsOf(const ExplainParams& params) {
    const auto found = params.find("head");
    if (found == params.end() || found->second < 0) return HeadSelection{};
    HeadSelection single;
    single.fusion = HeadFusion::Single;
    single.head = int(found->second);
    return single;
}

const ExplainerParam kQuery{"query", -1, -1, 1e6, true, "query token (sequence index); -1: CLS"};
const ExplainerParam kHead{"head", -1, -1, 1024, true, "one head; -1: the mean of the heads"};
const ExplainerParam kDiscard{"discard", 0.0, 0.0, 0.99, false, "fraction of the smallest weights dropped per layer"};

// mean over heads of A ⊙ ∂y/∂A, clamped at zero either per head (Chefer) or after the mean
// (vit-explain's gradient rollout).
std::vector<float> gradientWeighted(const AttentionLayer& layer, bool clampPerHead) {
    if (layer.gradient.empty()) {
        throw Error("layer " + std::to_string(layer.layer) + " was captured without gradients");
    }
    const std::size_t nn = std::size_t(layer.tokens) * layer.tokens;
    const std::vector<float> values = layer.allValues();
    std::vector<float> fused(nn, 0.0f);
    const float heads = float(layer.heads.size());
    for (std::size_t h = 0; h < layer.heads.size(); ++h) {
        for (std::size_t i = 0; i < nn; ++i) {
            const float v = values[h * nn + i] * layer.gradient[h * nn + i];
            fused[i] += (clampPerHead ? std::max(v, 0.0f) : v) / heads;
        }
    }
    if (!clampPerHead) {
        for (float& v : fused) v = std::max(v, 0.0f);
    }
    return fused;
}

void requireAllLayers(const AttentionStack& stack, const std::string& method) {
    if (int(stack.layers.size()) != stack.modelLayers) {
        throw Error(method, "needs every layer captured (" + std::to_string(stack.modelLayers) + "), got " +
                                std::to_string(stack.layers.size()));
    }
}

class RawAttention final : public Explainer {
public:
    std::string name() const override { return "raw"; }
    std::string title() const override { return "Raw attention"; }
    std::string citation() const override { return "attention weights of one layer (softmax(QK^T / sqrt(d)))"; }
    std::vector<ExplainerParam> parameters() const override {
        return {{"layer", -1, -1, 1024, true, "layer; -1: the last"}, kHead, kQuery};
    }
    CaptureRequest capture(const ExplainParams& params) const override {
        CaptureRequest request;
        const int layer = int(params.at("layer"));
        if (layer >= 0) request.layers = {layer};
        return request;
    }
    cv::Mat compute(const AttentionStack& stack, const ExplainParams& params) const override {
        int layer = int(params.at("layer"));
        if (layer < 0) layer = stack.modelLayers - 1;
        return rawAttentionMap(stack, layer, headsOf(params), queryOf(stack, params));
    }
};

class Rollout final : public Explainer {
public:
    std::string name() const override { return "rollout"; }
    std::string title() const override { return "Attention rollout"; }
    std::string citation() const override { return "Abnar & Zuidema, Quantifying Attention Flow in Transformers, ACL 2020"; }
    std::vector<ExplainerParam> parameters() const override { return {kDiscard, kHead, kQuery}; }
    cv::Mat compute(const AttentionStack& stack, const ExplainParams& params) const override {
        return rolloutMap(stack, headsOf(params), float(params.at("discard")), queryOf(stack, params));
    }
};

class AttentionFlow final : public Explainer {
public:
    std::string name() const override { return "flow"; }
    std::string title() const override { return "Attention flow"; }
    std::string citation() const override { return "Abnar & Zuidema, Quantifying Attention Flow in Transformers, ACL 2020 (exact max-flow)"; }
    std::vector<ExplainerParam> parameters() const override { return {kHead, kQuery}; }
    cv::Mat compute(const AttentionStack& stack, const ExplainParams& params) const override {
        return attentionFlowMap(stack, headsOf(params), queryOf(stack, params));
    }
};

class GradientRollout final : public Explainer {
public:
    std::string name() const override { return "gradient-rollout"; }
    std::string title() const override { return "Gradient rollout"; }
    std::string citation() const override { return "J. Gildenblat, vit-explain (2020): rollout of gradient-weighted attention"; }
    std::vector<ExplainerParam> parameters() const override { return {kDiscard, kQuery}; }
    bool needsGradients() const override { return true; }
    cv::Mat compute(const AttentionStack& stack, const ExplainParams& params) const override {
        const std::vector<float> matrix = gradientRolloutMatrix(stack, float(params.at("discard")));
        return patchGridFromRow(stack.tokens, matrix.data() + std::size_t(queryOf(stack, params)) * std::size_t(stack.tokens.size()));
    }
};

class CheferRelevance final : public Explainer {
public:
    std::string name() const override { return "chefer"; }
    std::string title() const override { return "Generic relevance (Chefer)"; }
    std::string citation() const override {
        return "Chefer, Gur & Wolf, Generic Attention-model Explainability for Interpreting Bi-Modal and "
               "Encoder-Decoder Transformers, ICCV 2021";
    }
    std::vector<ExplainerParam> parameters() const override { return {kQuery}; }
    bool needsGradients() const override { return true; }
    cv::Mat compute(const AttentionStack& stack, const ExplainParams& params) const override {
        const std::vector<float> matrix = cheferRelevanceMatrix(stack);
        return patchGridFromRow(stack.tokens, matrix.data() + std::size_t(queryOf(stack, params)) * std::size_t(stack.tokens.size()));
    }
};

}  // namespace

ExplainContext::ExplainContext(Model& model, const ImageInput& input, int targetClass, Progress* progress)
    : m_model(model), m_input(input), m_target(targetClass), m_progress(progress) {
    const int classes = model.spec().numClasses;
    if (targetClass >= 0 && classes > 0 && targetClass >= classes) {
        throw Error("target class " + std::to_string(targetClass) + " does not exist: the model has " +
                    std::to_string(classes) + " classes");
    }
}

const std::vector<float>& ExplainContext::logits() {
    if (m_logits.empty()) {
        if (m_haveRun) {
            m_logits = m_lastOutputs.logits;
        } else {
            m_logits = m_model.run(m_input, CaptureRequest::nothing()).logits;
        }
    }
    return m_logits;
}

int ExplainContext::target() {
    if (m_target < 0) {
        const std::vector<float>& values = logits();
        m_target = int(std::max_element(values.begin(), values.end()) - values.begin());
    }
    return m_target;
}

const ModelOutputs& ExplainContext::run(CaptureRequest request) {
    if (request.gradients) request.gradientTarget = m_target;  // -1: the run picks the top-1 class
    const auto same = [](const CaptureRequest& a, const CaptureRequest& b) {
        return a.layers == b.layers && a.heads == b.heads && a.attention == b.attention && a.gradients == b.gradients &&
               a.gradientTarget == b.gradientTarget && a.precision == b.precision;
    };
    if (!m_haveRun || !same(request, m_lastRequest)) {
        m_lastOutputs = m_model.run(m_input, request);
        m_lastRequest = request;
        m_haveRun = true;
        if (m_logits.empty()) m_logits = m_lastOutputs.logits;
        if (m_target < 0 && request.gradients) m_target = m_lastOutputs.topClass();
    }
    return m_lastOutputs;
}

void ExplainContext::report(double fraction, std::string_view what) const {
    if (m_progress && !m_progress->update(fraction, what)) throw Cancelled();
}

cv::Mat Explainer::compute(const AttentionStack&, const ExplainParams&) const {
    throw Error("method " + name(), "works on the model, not on captured attention alone");
}

cv::Mat Explainer::explain(ExplainContext& context, const ExplainParams& params) const {
    if (!usesAttention()) throw Error("method " + name(), "has no model-level implementation");
    if (context.model().spec().depth <= 0) {
        throw Error("method " + name(), "needs attention, and " + context.model().spec().architecture + " has none");
    }
    const ModelOutputs& out = context.run(capture(params));
    return compute(out.attention, params);
}

bool Explainer::explainsTokens() const {
    const std::vector<std::string> names = textExplainerNames();
    return std::find(names.begin(), names.end(), name()) != names.end();
}

CaptureRequest Explainer::capture(const ExplainParams&) const {
    CaptureRequest request;
    request.gradients = needsGradients();
    return request;
}

ExplainParams Explainer::defaults() const {
    ExplainParams params;
    for (const ExplainerParam& p : parameters()) params[p.name] = p.defaultValue;
    return params;
}

ExplainParams Explainer::resolve(const ExplainParams& given) const {
    ExplainParams params = defaults();
    const std::vector<ExplainerParam> known = parameters();
    for (const auto& [key, value] : given) {
        const auto p = std::find_if(known.begin(), known.end(), [&](const ExplainerParam& k) { return k.name == key; });
        if (p == known.end()) {
            std::string names;
            for (const ExplainerParam& k : known) names += (names.empty() ? "" : ", ") + k.name;
            throw Error("method " + name(), "has no parameter '" + key + "' (it has: " + (names.empty() ? "none" : names) + ")");
        }
        if (!(value >= p->minimum && value <= p->maximum)) {
            std::ostringstream range;
            range << p->minimum << ".." << p->maximum;
            throw Error("method " + name(), "parameter " + key + " must be in " + range.str());
        }
        if (p->integer && value != std::floor(value)) throw Error("method " + name(), "parameter " + key + " must be an integer");
        params[key] = value;
    }
    return params;
}

const std::vector<const Explainer*>& explainers() {
    static const RawAttention raw;
    static const Rollout rollout;
    static const AttentionFlow flow;
    static const GradientRollout gradientRollout;
    static const CheferRelevance chefer;
    static const std::vector<const Explainer*> all = [&] {
        std::vector<const Explainer*> list = {&raw, &rollout, &flow, &gradientRollout, &chefer};
        for (const Explainer* e : camExplainers()) list.push_back(e);
        for (const Explainer* e : attributionExplainers()) list.push_back(e);
        return list;
    }();
    return all;
}

std::vector<std::string> explainerNames() {
    std::vector<std::string> names;
    for (const Explainer* e : explainers()) names.push_back(e->name());
    return names;
}

const Explainer& findExplainer(const std::string& name) {
    for (const Explainer* e : explainers()) {
        if (e->name() == name) return *e;
    }
    std::string names;
    for (const std::string& n : explainerNames()) names += (names.empty() ? "" : ", ") + n;
    throw Error("method '" + name + "' is not one of " + names);
}

std::pair<std::string, double> parseExplainerParam(const std::string& text) {
    const auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0) throw Error("parameter '" + text + "' is not name=value");
    const std::string key = text.substr(0, equals), value = text.substr(equals + 1);
    std::size_t used = 0;
    double number = 0.0;
    try {
        number = std::stod(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != value.size()) throw Error("parameter '" + text + "': '" + value + "' is not a number");
    return {key, number};
}

std::vector<float> gradientRolloutMatrix(const AttentionStack& stack, float discardRatio) {
    requireAllLayers(stack, "gradient-rollout");
    return rolloutOf(stack, [](const AttentionLayer& layer) { return gradientWeighted(layer, /*clampPerHead*/ false); },
                     discardRatio);
}

std::vector<float> cheferRelevanceMatrix(const AttentionStack& stack) {
    requireAllLayers(stack, "chefer");
    const int n = stack.tokens.size();
    std::vector<double> relevance(std::size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i) relevance[std::size_t(i) * n + i] = 1.0;
    std::vector<double> update(relevance.size());
    for (const AttentionLayer& layer : stack.layers) {
        const std::vector<float> weights = gradientWeighted(layer, /*clampPerHead*/ true);
        std::fill(update.begin(), update.end(), 0.0);
        for (int row = 0; row < n; ++row) {
            for (int k = 0; k < n; ++k) {
                const double a = weights[std::size_t(row) * n + k];
                if (a == 0.0) continue;
                for (int col = 0; col < n; ++col) update[std::size_t(row) * n + col] += a * relevance[std::size_t(k) * n + col];
            }
        }
        for (std::size_t i = 0; i < relevance.size(); ++i) relevance[i] += update[i];
    }
    return std::vector<float>(relevance.begin(), relevance.end());
}

}  // namespace fovea
