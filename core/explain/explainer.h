// Explanation methods behind one interface, found by name in a registry: the CLI
// (`fovea run --method NAME --param k=v`), the GUI's method list, `fovea eval` and the
// benchmarks all use it.
//
//     const Explainer& method = findExplainer("gradcam");
//     ExplainParams params = method.resolve({{"layer", 10}});   // defaults, then --param k=v
//     ExplainContext context(model, input, /*target class*/ -1); // -1: top-1
//     cv::Mat map = method.explain(context, params);            // CV_32F, grid or pixels
//
// Attention methods (usesAttention()) also work from an AttentionStack the caller already has,
// which is how the GUI switches between them without running the model again:
//
//     CaptureRequest request = method.capture(params);          // what the forward must keep
//     cv::Mat map = method.compute(outputs.attention, params);  // over the patch grid
//
// Maps come back at the method's natural resolution (the patch grid, a CNN's feature grid, or
// the input's pixels); consumers resize to the image.
#pragma once

#include "core/model/attention_stack.h"
#include "core/model/model.h"
#include "core/util/progress.h"

#include <opencv2/core/mat.hpp>

#include <map>
#include <string>
#include <vector>

namespace fovea {

struct ExplainerParam {
    std::string name;
    double defaultValue = 0.0;
    double minimum = 0.0;
    double maximum = 1.0;
    bool integer = false;
    std::string help;
    // For integer parameters that pick an option: the label of each value from `minimum` on.
    std::vector<std::string> choices = {};
};

using ExplainParams = std::map<std::string, double>;

// One input on one model, with the class to explain; caches the forward passes methods share
// and collects what a method has to say beside its map (e.g. the completeness gap of
// integrated gradients).
class ExplainContext {
public:
    ExplainContext(Model& model, const ImageInput& input, int targetClass = -1, Progress* progress = nullptr);
    Model& model() const { return m_model; }
    const ImageInput& input() const { return m_input; }
    // The class explained: the one given, or the top-1 class of a plain forward pass.
    int target();
    // The class asked for (-1: top-1, not yet known); a method that learns the top-1 class from
    // its own forward pass settles it with resolveTarget().
    int requestedTarget() const { return m_target; }
    void resolveTarget(int classIndex) {
        if (m_target < 0) m_target = classIndex;
    }
    // Logits of the plain forward pass (run once).
    const std::vector<float>& logits();
    // A forward pass with this capture (gradients taken for target()); the last one is cached.
    const ModelOutputs& run(CaptureRequest request);
    // Reports how far a long method is; throws Cancelled when the user cancelled.
    void report(double fraction, std::string_view what) const;
    // Findings beside the map ("completeness_gap" -> 0.004), in the order they were noted.
    void note(const std::string& key, double value) { m_notes.emplace_back(key, value); }
    const std::vector<std::pair<std::string, double>>& notes() const { return m_notes; }
    int batchSize = 16;  // images per forward pass for perturbation methods

private:
    Model& m_model;
    const ImageInput& m_input;
    int m_target;
    Progress* m_progress;
    std::vector<float> m_logits;
    bool m_haveRun = false;
    CaptureRequest m_lastRequest;
    ModelOutputs m_lastOutputs;
    std::vector<std::pair<std::string, double>> m_notes;
};

class Explainer {
public:
    virtual ~Explainer() = default;
    virtual std::string name() const = 0;
    virtual std::string title() const = 0;     // for menus: "Chefer generic relevance"
    virtual std::string citation() const = 0;  // the paper
    virtual std::vector<ExplainerParam> parameters() const { return {}; }
    // "attention", "gradient", "cam" or "perturbation": how the GUI groups the method list.
    virtual std::string family() const { return "attention"; }
    virtual bool needsGradients() const { return false; }
    // True when compute(stack) works: the method needs nothing but captured attention (and, with
    // needsGradients(), its gradient for the target class).
    virtual bool usesAttention() const { return true; }
    // Cost hint: many forward (or forward + backward) passes per image (perturbation methods,
    // SmoothGrad, integrated gradients).
    virtual bool expensive() const { return false; }
    // Which layers/heads the forward pass must keep for these parameters.
    virtual CaptureRequest capture(const ExplainParams& params) const;
    // Attention methods: the map over the patch grid for the query token the parameters name
    // (default: CLS). Others throw.
    virtual cv::Mat compute(const AttentionStack& stack, const ExplainParams& params) const;
    // Any method on one input. The default runs capture(params) through the context and calls
    // compute(); model-level methods override it.
    virtual cv::Mat explain(ExplainContext& context, const ExplainParams& params) const;

    // Also explains token sequences of language models, one score per token
    // (core/explain/text_explain.h: explainTokens).
    bool explainsTokens() const;

    ExplainParams defaults() const;
    // Defaults overridden by `given`; throws fovea::Error naming the method for an unknown
    // parameter, a value out of range or a non-integer where an integer is needed.
    ExplainParams resolve(const ExplainParams& given) const;
};

const std::vector<const Explainer*>& explainers();
// Throws fovea::Error listing the known names.
const Explainer& findExplainer(const std::string& name);
std::vector<std::string> explainerNames();

// "name=value" -> (name, value); throws fovea::Error for anything else.
std::pair<std::string, double> parseExplainerParam(const std::string& text);

// Gradient rollout (jacobgil/vit-explain): per layer Â = rownorm(0.5 clamp0(mean_h(A ⊙ ∂y/∂A)) + 0.5 I),
// optional discard of the smallest weights (never the CLS column), R = Â_L ... Â_1. Tokens x tokens.
std::vector<float> gradientRolloutMatrix(const AttentionStack& stack, float discardRatio = 0.0f);
// Chefer et al. 2021 generic relevance: R = I; for each layer in forward order
// Ā = mean_h(clamp0(∂y/∂A ⊙ A)); R = R + Ā R. Tokens x tokens.
std::vector<float> cheferRelevanceMatrix(const AttentionStack& stack);

}  // namespace fovea
