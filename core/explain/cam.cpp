// The class activation map (CAM) family on a feature grid: a CNN stage's output, or a ViT's
// patch tokens entering a block (default: the last block's norm1 input, because the last
// block's patch tokens reach a CLS head through nothing).
//
//   Grad-CAM:   Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
//               Gradient-based Localization", ICCV 2017.
//   Grad-CAM++: Chattopadhay et al., "Grad-CAM++: Generalized Gradient-based Visual Explanations
//               for Deep Convolutional Networks", WACV 2018.
//   XGrad-CAM:  Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation
//               of CNNs", BMVC 2020.
//   HiResCAM:   Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations of
//               convolutional neural networks", arXiv:2011.08891 (2020).
//   LayerCAM:   Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for
//               Localization", IEEE TIP 2021.
//   EigenCAM:   Muhammad & Yeasin, "Eigen-CAM: Class Activation Map using Principal Components",
//               IJCNN 2020.
//   Score-CAM:  Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional
//               Neural Networks", CVPR Workshops 2020.
//
// With activations A_k(i,j) of channel k and gradients G_k = ∂y_c/∂A_k of the target logit:
//   Grad-CAM    ReLU(Σ_k mean_ij(G_k) A_k)
//   Grad-CAM++  ReLU(Σ_k w_k A_k), w_k = Σ_ij ReLU(G_k) a_k(i,j),
//               a_k = G_k² / (2 G_k² + Σ_ij A_k · G_k³) (0 where G_k = 0)
//   XGrad-CAM   ReLU(Σ_k w_k A_k), w_k = Σ_ij G_k A_k / Σ_ij A_k
//   HiResCAM    ReLU(Σ_k G_k ⊙ A_k)
//   LayerCAM    ReLU(Σ_k ReLU(G_k) ⊙ A_k)
//   EigenCAM    ReLU of the activations (positions x channels, centred per channel) projected on
//               their first principal direction
//   Score-CAM   ReLU(Σ_k softmax_k(s_k) A_k), s_k the target logit of the input multiplied by
//               A_k upsampled to the input and min-max normalised
// A property worth knowing: at the input of a ViT block, HiResCAM of the *last* block is zero
// everywhere (up to rounding), because patch tokens reach a CLS head there only through norm1,
// which ignores a token's scale, so Σ_k A_k ∂y/∂A_k vanishes per position. Grad-CAM's channel
// means do not have this problem; HiResCAM on earlier blocks does not either.
// These follow the formulas as pytorch-grad-cam implements them. One deliberate difference:
// the sign of a principal direction is arbitrary, so EigenCAM flips it to make the projection
// agree with the activation mass (pytorch-grad-cam leaves it to the SVD routine).
#include "core/explain/model_methods.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>

namespace fovea {
namespace {

enum class Cam { Grad, GradPlusPlus, XGrad, HiRes, Layer, Eigen, Score };

struct Activations {
    at::Tensor values;     // [C, h, w]
    at::Tensor gradients;  // [C, h, w], undefined when not asked for
    int target = 0;
};

int featureLayerOf(const DifferentiableModel& net, const ExplainParams& params, const std::string& method) {
    int layer = int(params.at("layer"));
    if (layer < 0) layer = net.defaultFeatureLayer();
    if (layer >= net.featureLayerCount()) {
        throw Error("method " + method, "feature layer " + std::to_string(layer) + " does not exist (the model has " +
                                            std::to_string(net.featureLayerCount()) + ")");
    }
    return layer;
}

Activations activationsAt(ExplainContext& context, DifferentiableModel& net, int layer, bool gradients) {
    FeatureTap tap;
    tap.layer = layer;
    const at::Tensor pixels = inputTensor(context, net);
    Activations out;
    if (!gradients) {
        c10::InferenceMode inference;
        const at::Tensor logits = net.logits(pixels, &tap);
        context.resolveTarget(int(logits.select(0, 0).argmax().item<int64_t>()));
        out.values = tap.features.select(0, 0).to(at::kFloat).clone();
        out.target = context.target();
        return out;
    }
    // The weights do not require gradients; the grid becomes the leaf we differentiate by.
    tap.replace = [](const at::Tensor& grid) { return grid.detach().requires_grad_(true); };
    const at::Tensor logits = net.logits(pixels, &tap);
    context.resolveTarget(int(logits.select(0, 0).argmax().item<int64_t>()));
    out.target = context.target();
    if (out.target >= logits.size(1)) {
        throw Error("target class " + std::to_string(out.target) + " does not exist: the model has " +
                    std::to_string(logits.size(1)) + " outputs");
    }
    const at::Tensor score = logits.select(0, 0).select(0, out.target);
    out.gradients = torch::autograd::grad({score}, {tap.features})[0].select(0, 0).detach();
    out.values = tap.features.detach().select(0, 0);
    return out;
}

at::Tensor weightedSum(const at::Tensor& weights, const at::Tensor& values) {
    return (weights.view({-1, 1, 1}) * values).sum(0);
}

at::Tensor eigenProjection(const at::Tensor& values) {
    const int64_t c = values.size(0);
    at::Tensor positions = values.reshape({c, -1}).transpose(0, 1).to(at::kDouble);  // [hw, C]
    positions = positions - positions.mean(0, /*keepdim=*/true);
    const auto svd = at::linalg_svd(positions, /*full_matrices=*/false);
    const at::Tensor direction = std::get<2>(svd).select(0, 0);  // first right singular vector
    at::Tensor projection = at::matmul(positions, direction);
    // Orient the direction so the projection correlates positively with the activation mass.
    const at::Tensor mass = values.reshape({c, -1}).sum(0).to(at::kDouble);
    if ((projection * (mass - mass.mean())).sum().item<double>() < 0.0) projection = -projection;
    return projection.reshape({values.size(1), values.size(2)}).to(at::kFloat);
}

at::Tensor scoreCam(ExplainContext& context, DifferentiableModel& net, const at::Tensor& values, int target) {
    const at::Tensor pixels = inputTensor(context, net);
    const int64_t channels = values.size(0);
    const int64_t height = pixels.size(2), width = pixels.size(3);
    const int64_t batch = std::max(1, context.batchSize);
    std::vector<at::Tensor> scores;
    c10::InferenceMode inference;
    for (int64_t first = 0; first < channels; first += batch) {
        const int64_t count = std::min(batch, channels - first);
        at::Tensor masks = at::upsample_bilinear2d(values.narrow(0, first, count).unsqueeze(1), {height, width},
                                                   /*align_corners=*/false);  // [n, 1, H, W]
        const at::Tensor flat = masks.flatten(1);
        const at::Tensor low = std::get<0>(flat.min(1)).view({-1, 1, 1, 1});
        const at::Tensor high = std::get<0>(flat.max(1)).view({-1, 1, 1, 1});
        masks = (masks - low) / (high - low).clamp_min(1e-12);
        const at::Tensor logits = net.logits(pixels * masks);
        scores.push_back(logits.select(1, target).to(at::kFloat));
        context.report(double(first + count) / double(channels), "Score-CAM");
    }
    context.note("forward_images", double(channels));
    const at::Tensor weights = at::cat(scores).softmax(0);
    return weightedSum(weights, values);
}

class CamMethod final : public Explainer {
public:
    CamMethod(Cam kind, std::string name, std::string title, std::string citation)
        : m_kind(kind), m_name(std::move(name)), m_title(std::move(title)), m_citation(std::move(citation)) {}
    std::string name() const override { return m_name; }
    std::string title() const override { return m_title; }
    std::string citation() const override { return m_citation; }
    std::string family() const override { return "cam"; }
    std::vector<ExplainerParam> parameters() const override {
        return {{"layer", -1, -1, 1024, true, "feature layer (ViT: tokens entering block N; CNN: stage); -1: the default"}};
    }
    bool needsGradients() const override { return m_kind != Cam::Eigen && m_kind != Cam::Score; }
    bool usesAttention() const override { return false; }
    bool expensive() const override { return m_kind == Cam::Score; }

    cv::Mat explain(ExplainContext& context, const ExplainParams& params) const override {
        DifferentiableModel& net = differentiableOf(context, m_name);
        const int layer = featureLayerOf(net, params, m_name);
        const Activations act = activationsAt(context, net, layer, needsGradients());
        torch::NoGradGuard noGrad;
        const at::Tensor& a = act.values;
        const at::Tensor& g = act.gradients;
        at::Tensor cam;
        switch (m_kind) {
        case Cam::Grad: cam = weightedSum(g.mean({1, 2}), a); break;
        case Cam::GradPlusPlus: {
            const at::Tensor g2 = g * g, g3 = g2 * g;
            const at::Tensor sumA = a.sum({1, 2}, /*keepdim=*/true);
            at::Tensor alpha = g2 / (2 * g2 + sumA * g3 + 1e-7);
            alpha = at::where(g != 0, alpha, at::zeros_like(alpha));
            cam = weightedSum((g.clamp_min(0) * alpha).sum({1, 2}), a);
            break;
        }
        case Cam::XGrad: cam = weightedSum((g * a).sum({1, 2}) / (a.sum({1, 2}) + 1e-7), a); break;
        case Cam::HiRes: cam = (g * a).sum(0); break;
        case Cam::Layer: cam = (g.clamp_min(0) * a).sum(0); break;
        case Cam::Eigen: cam = eigenProjection(a); break;
        case Cam::Score: cam = scoreCam(context, net, a, act.target); break;
        }
        context.note("feature_layer", layer);
        return toMat(cam.clamp_min(0));
    }

private:
    Cam m_kind;
    std::string m_name, m_title, m_citation;
};

}  // namespace

std::vector<const Explainer*> camExplainers() {
    static const CamMethod gradCam(Cam::Grad, "gradcam", "Grad-CAM", "Selvaraju et al., Grad-CAM, ICCV 2017");
    static const CamMethod gradCamPP(Cam::GradPlusPlus, "gradcam++", "Grad-CAM++", "Chattopadhay et al., Grad-CAM++, WACV 2018");
    static const CamMethod xGradCam(Cam::XGrad, "xgradcam", "XGrad-CAM", "Fu et al., Axiom-based Grad-CAM, BMVC 2020");
    static const CamMethod hiResCam(Cam::HiRes, "hirescam", "HiResCAM", "Draelos & Carin, HiResCAM, arXiv:2011.08891");
    static const CamMethod layerCam(Cam::Layer, "layercam", "LayerCAM", "Jiang et al., LayerCAM, IEEE TIP 2021");
    static const CamMethod eigenCam(Cam::Eigen, "eigencam", "EigenCAM", "Muhammad & Yeasin, Eigen-CAM, IJCNN 2020");
    static const CamMethod scoreCam(Cam::Score, "scorecam", "Score-CAM", "Wang et al., Score-CAM, CVPR Workshops 2020");
    return {&gradCam, &gradCamPP, &xGradCam, &hiResCam, &layerCam, &eigenCam, &scoreCam};
}

}  // namespace fovea
