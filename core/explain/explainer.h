// Explanation methods behind one interface, found by name in a registry: the CLI
// (`fovea run --method NAME --param k=v`), the GUI's method list and evaluation all use it.
//
//     const Explainer& method = findExplainer("chefer");
//     ExplainParams params = method.defaults();          // then override from --param k=v
//     CaptureRequest request = method.capture(params);    // what the forward pass must keep
//     request.gradientTarget = targetClass;               // -1: top-1
//     ModelOutputs out = model.run(input, request);
//     cv::Mat map = method.compute(out.attention, params); // CV_32F over the patch grid
//
// The methods here work on captured attention (and its gradient); methods that need hidden
// states (the CAM family) or many forward passes (perturbation methods) will join the same
// registry with a model-level compute.
#pragma once

#include "core/model/attention_stack.h"

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
};

using ExplainParams = std::map<std::string, double>;

class Explainer {
public:
    virtual ~Explainer() = default;
    virtual std::string name() const = 0;
    virtual std::string title() const = 0;     // for menus: "Chefer generic relevance"
    virtual std::string citation() const = 0;  // the paper
    virtual std::vector<ExplainerParam> parameters() const { return {}; }
    virtual bool needsGradients() const { return false; }
    // Which layers/heads the forward pass must keep for these parameters.
    virtual CaptureRequest capture(const ExplainParams& params) const;
    // The map over the patch grid for the query token the parameters name (default: CLS).
    virtual cv::Mat compute(const AttentionStack& stack, const ExplainParams& params) const = 0;

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
