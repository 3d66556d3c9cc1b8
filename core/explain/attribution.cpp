// Pixel attribution methods: gradients of the target logit with respect to the input, and
// perturbation methods that only need forward passes.
//
//   Input x gradient: Shrikumar et al., "Not Just a Black Box: Learning Important Features
//       Through Propagating Activation Differences", arXiv:1605.01713 (2016).
//   SmoothGrad: Smilkov et al., "SmoothGrad: removing noise by adding noise", arXiv:1706.03825
//       (2017): the gradient averaged over copies of the input with Gaussian noise of standard
//       deviation noise x (max - min of the input).
//   Integrated gradients: Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks",
//       ICML 2017: (x - x') ⊙ ∫ ∂f/∂x(x' + α(x - x')) dα, here the midpoint Riemann sum with
//       `steps` points. Completeness says Σ attributions = f(x) - f(x'); the relative gap is
//       noted with the map.
//   Occlusion: Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV
//       2014: the drop of the target probability when a window is filled with the dataset mean
//       (zero after normalisation), averaged over the windows covering each pixel.
//   RISE: Petsiuk, Das & Saenko, "RISE: Randomized Input Sampling for Explanation of Black-box
//       Models", BMVC 2018: Σ_i P_c(x ⊙ M_i) M_i / (N p) over N random masks, each an s x s
//       binary grid (cells kept with probability p) upsampled bilinearly to (s+1) cells and
//       shifted by a random offset within one cell.
//
// Gradient maps are the channel sum of the attribution, kept as its positive part, absolute
// value or signed (parameter `sign`). Perturbation methods run `batchSize` images per pass.
#include "core/explain/model_methods.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>

namespace fovea {
namespace {

struct Gradients {
    at::Tensor gradients;  // [B, C, H, W]
    at::Tensor scores;     // [B] target logits
};

// ∂ logit_c / ∂ pixels for a batch of inputs; settles the context's target from the first item
// when it is still open.
Gradients inputGradients(ExplainContext& context, DifferentiableModel& net, const at::Tensor& batch) {
    const at::Tensor pixels = batch.detach().requires_grad_(true);
    const at::Tensor logits = net.logits(pixels);
    context.resolveTarget(int(logits.select(0, 0).argmax().item<int64_t>()));
    const int target = context.target();
    if (target >= logits.size(1)) {
        throw Error("target class " + std::to_string(target) + " does not exist: the model has " +
                    std::to_string(logits.size(1)) + " outputs");
    }
    const at::Tensor scores = logits.select(1, target);
    Gradients out;
    out.gradients = torch::autograd::grad({scores.sum()}, {pixels})[0].detach();
    out.scores = scores.detach();
    return out;
}

at::Tensor targetProbabilities(DifferentiableModel& net, const at::Tensor& batch, int target) {
    return net.logits(batch).softmax(1).select(1, target).to(at::kFloat);
}

int targetOf(ExplainContext& context, DifferentiableModel& net, const at::Tensor& pixels) {
    if (context.requestedTarget() < 0) {
        c10::InferenceMode inference;
        context.resolveTarget(int(net.logits(pixels).select(0, 0).argmax().item<int64_t>()));
    }
    return context.target();
}

class PixelMethod : public Explainer {
public:
    bool usesAttention() const override { return false; }
};

class InputTimesGradient final : public PixelMethod {
public:
    std::string name() const override { return "input-x-gradient"; }
    std::string title() const override { return "Input x gradient"; }
    std::string citation() const override { return "Shrikumar et al., Not Just a Black Box, arXiv:1605.01713"; }
    std::string family() const override { return "gradient"; }
    bool needsGradients() const override { return true; }
    std::vector<ExplainerParam> parameters() const override { return {signParameter(1)}; }
    cv::Mat explain(ExplainContext& context, const ExplainParams& params) const override {
        DifferentiableModel& net = differentiableOf(context, name());
        const at::Tensor x = inputTensor(context, net);
        const Gradients g = inputGradients(context, net, x);
        return toMat(reduceChannels((x * g.gradients).select(0, 0), int(params.at("sign"))));
    }
};

class SmoothGrad final : public PixelMethod {
public:
    std::string name() const override { return "smoothgrad"; }
    std::string title() const override { return "SmoothGrad"; }
    std::string citation() const override { return "Smilkov et al., SmoothGrad: removing noise by adding noise, arXiv:1706.03825"; }
    std::string family() const override { return "gradient"; }
    bool needsGradients() const override { return true; }
    bool expensive() const override { return true; }
    std::vector<ExplainerParam> parameters() const override {
        return {{"samples", 25, 1, 1000, true, "noisy copies averaged"},
                {"noise", 0.15, 0.0, 1.0, false, "noise standard deviation as a fraction of the input's range"},
                {"seed", 0, 0, 1e9, true, "random seed"},
                signParameter(1)};
    }
    cv::Mat explain(ExplainContext& context, const ExplainParams& params) const override {
        DifferentiableModel& net = differentiableOf(context, name());
        const at::Tensor x = inputTensor(context, net);
        targetOf(context, net, x);
        const int samples = int(params.at("samples"));
        const double sigma = params.at("noise") * (x.max() - x.min()).item<double>();
        at::Generator generator = at::detail::createCPUGenerator(std::uint64_t(params.at("seed")));
        at::Tensor sum = at::zeros_like(x);
        for (int first = 0; first < samples; first += std::max(1, context.batchSize)) {
            const int count = std::min(std::max(1, context.batchSize), samples - first);
            const at::Tensor noise = at::normal(0.0, 1.0, {count, x.size(1), x.size(2), x.size(3)}, generator).to(x.device());
            const Gradients g = inputGradients(context, net, x + sigma * noise);
            sum += g.gradients.sum(0, /*keepdim=*/true);
            context.report(double(first + count) / samples, "SmoothGrad");
        }
        context.note("forward_images", samples);
        return toMat(reduceChannels((sum / samples).select(0, 0), int(params.at("sign"))));
    }
};

class IntegratedGradients final : public PixelMethod {
public:
    std::string name() const override { return "integrated-gradients"; }
    std::string title() const override { return "Integrated gradients"; }
    std::string citation() const override { return "Sundararajan, Taly & Yan, Axiomatic Attribution for Deep Networks, ICML 2017"; }
    std::string family() const override { return "gradient"; }
    bool needsGradients() const override { return true; }
    bool expensive() const override { return true; }
    std::vector<ExplainerParam> parameters() const override {
        return {{"steps", 64, 1, 4096, true, "points of the Riemann sum along the path"},
                {"baseline", 0, 0, 1, true, "0: black image, 1: the dataset mean (zero after normalisation)", {"black image", "dataset mean"}},
                signParameter(2)};
    }
    cv::Mat explain(ExplainContext& context, const ExplainParams& params) const override {
        DifferentiableModel& net = differentiableOf(context, name());
        const at::Tensor x = inputTensor(context, net);
        const at::Tensor baseline = params.at("baseline") == 0 ? blackImage(context, x) : at::zeros_like(x);
        const int steps = int(params.at("steps"));
        const int target = targetOf(context, net, x);
        at::Tensor sum = at::zeros_like(x);
        const int batch = std::max(1, context.batchSize);
        for (int first = 0; first < steps; first += batch) {
            const int count = std::min(batch, steps - first);
            // Midpoints α = (k + 1/2) / steps.
            const at::Tensor alphas =
                (at::arange(first, first + count, at::TensorOptions().dtype(at::kFloat)).to(x.device()) + 0.5) / steps;
            const at::Tensor path = baseline + alphas.view({-1, 1, 1, 1}) * (x - baseline);
            sum += inputGradients(context, net, path).gradients.sum(0, /*keepdim=*/true);
            context.report(double(first + count) / steps, "integrated gradients");
        }
        const at::Tensor attribution = ((x - baseline) * sum / steps).select(0, 0);
        double delta = 0.0;
        {
            c10::InferenceMode inference;
            const at::Tensor ends = net.logits(at::cat({x, baseline})).select(1, target).to(at::kDouble);
            delta = (ends[0] - ends[1]).item<double>();
        }
        const double total = attribution.sum().item<double>();
        context.note("forward_images", steps);
        context.note("attribution_sum", total);
        context.note("logit_difference", delta);
        context.note("completeness_gap", std::abs(total - delta) / std::max(std::abs(delta), 1e-12));
        return toMat(reduceChannels(attribution, int(params.at("sign"))));
    }

private:
    // Pixel value 0 in every channel, expressed in the model's normalised space.
    static at::Tensor blackImage(ExplainContext& context, const at::Tensor& x) {
        const Preprocessing& p = context.model().spec().preprocessing;
        at::Tensor black = at::empty_like(x);
        for (int64_t c = 0; c < x.size(1); ++c) {
            const double mean = c < int64_t(p.mean.size()) ? p.mean[std::size_t(c)] : 0.0;
            const double std = c < int64_t(p.std.size()) ? p.std[std::size_t(c)] : 1.0;
            black.select(1, c).fill_(-mean / std);
        }
        return black;
    }
};

class Occlusion final : public PixelMethod {
public:
    std::string name() const override { return "occlusion"; }
    std::string title() const override { return "Occlusion"; }
    std::string citation() const override { return "Zeiler & Fergus, Visualizing and Understanding Convolutional Networks, ECCV 2014"; }
    std::string family() const override { return "perturbation"; }
    bool expensive() const override { return true; }
    std::vector<ExplainerParam> parameters() const override {
        return {{"window", 32, 1, 4096, true, "occluding square, pixels"}, {"stride", 16, 1, 4096, true, "step between windows, pixels"}};
    }
    cv::Mat explain(ExplainContext& context, const ExplainParams& params) const override {
        DifferentiableModel& net = differentiableOf(context, name());
        const at::Tensor x = inputTensor(context, net);
        const int target = targetOf(context, net, x);
        const int64_t height = x.size(2), width = x.size(3);
        const int64_t window = std::min<int64_t>(int64_t(params.at("window")), std::min(height, width));
        const int64_t stride = int64_t(params.at("stride"));
        std::vector<std::pair<int64_t, int64_t>> corners;
        for (int64_t top = 0;; top += stride) {
            const int64_t row = std::min(top, height - window);
            for (int64_t left = 0;; left += stride) {
                corners.emplace_back(row, std::min(left, width - window));
                if (left + window >= width) break;
            }
            if (top + window >= height) break;
        }
        c10::InferenceMode inference;
        const double reference = targetProbabilities(net, x, target).item<double>();
        at::Tensor drop = at::zeros({height, width}, at::kDouble);
        at::Tensor count = at::zeros({height, width}, at::kDouble);
        const std::size_t batch = std::size_t(std::max(1, context.batchSize));
        for (std::size_t first = 0; first < corners.size(); first += batch) {
            const std::size_t n = std::min(batch, corners.size() - first);
            at::Tensor images = x.repeat({int64_t(n), 1, 1, 1});
            for (std::size_t i = 0; i < n; ++i) {
                const auto [row, col] = corners[first + i];
                images[int64_t(i)].narrow(1, row, window).narrow(2, col, window).zero_();
            }
            const at::Tensor p = targetProbabilities(net, images, target).to(at::kCPU, at::kDouble);
            for (std::size_t i = 0; i < n; ++i) {
                const auto [row, col] = corners[first + i];
                drop.narrow(0, row, window).narrow(1, col, window) += reference - p[int64_t(i)].item<double>();
                count.narrow(0, row, window).narrow(1, col, window) += 1.0;
            }
            context.report(double(first + n) / double(corners.size()), "occlusion");
        }
        context.note("forward_images", double(corners.size()));
        return toMat(drop / count.clamp_min(1.0));
    }
};

class Rise final : public PixelMethod {
public:
    std::string name() const override { return "rise"; }
    std::string title() const override { return "RISE"; }
    std::string citation() const override { return "Petsiuk, Das & Saenko, RISE, BMVC 2018"; }
    std::string family() const override { return "perturbation"; }
    bool expensive() const override { return true; }
    std::vector<ExplainerParam> parameters() const override {
        return {{"masks", 2000, 1, 100000, true, "random masks"},
                {"cells", 7, 2, 64, true, "mask grid cells per side"},
                {"keep", 0.5, 0.01, 1.0, false, "probability that a cell is kept"},
                {"seed", 0, 0, 1e9, true, "random seed"}};
    }
    cv::Mat explain(ExplainContext& context, const ExplainParams& params) const override {
        DifferentiableModel& net = differentiableOf(context, name());
        const at::Tensor x = inputTensor(context, net);
        const int target = targetOf(context, net, x);
        const int64_t height = x.size(2), width = x.size(3);
        const int masks = int(params.at("masks"));
        const int64_t cells = int64_t(params.at("cells"));
        const double keep = params.at("keep");
        const double cellH = std::ceil(double(height) / double(cells)), cellW = std::ceil(double(width) / double(cells));
        const int64_t upH = int64_t(double(cells + 1) * cellH), upW = int64_t(double(cells + 1) * cellW);
        at::Generator generator = at::detail::createCPUGenerator(std::uint64_t(params.at("seed")));
        c10::InferenceMode inference;
        at::Tensor saliency = at::zeros({height, width}, at::TensorOptions().dtype(at::kDouble).device(x.device()));
        const int batch = std::max(1, context.batchSize);
        for (int first = 0; first < masks; first += batch) {
            const int n = std::min(batch, masks - first);
            const at::Tensor grid = (at::rand({n, 1, cells, cells}, generator) < keep).to(at::kFloat);
            const at::Tensor up = at::upsample_bilinear2d(grid, {upH, upW}, /*align_corners=*/false);
            const at::Tensor shifts = at::rand({n, 2}, generator);
            std::vector<at::Tensor> crops;
            for (int i = 0; i < n; ++i) {
                const int64_t dy = int64_t(shifts[i][0].item<double>() * cellH);
                const int64_t dx = int64_t(shifts[i][1].item<double>() * cellW);
                crops.push_back(up[i].narrow(1, dy, height).narrow(2, dx, width));
            }
            const at::Tensor m = at::stack(crops).to(x.device());  // [n, 1, H, W]
            const at::Tensor p = targetProbabilities(net, x * m, target).to(at::kDouble);
            saliency += (p.view({-1, 1, 1}) * m.select(1, 0).to(at::kDouble)).sum(0);
            context.report(double(first + n) / masks, "RISE");
        }
        context.note("forward_images", masks);
        return toMat((saliency / (double(masks) * keep)).to(at::kFloat));
    }
};

}  // namespace

std::vector<const Explainer*> attributionExplainers() {
    static const InputTimesGradient inputGradient;
    static const SmoothGrad smoothGrad;
    static const IntegratedGradients integratedGradients;
    static const Occlusion occlusion;
    static const Rise rise;
    return {&inputGradient, &smoothGrad, &integratedGradients, &occlusion, &rise};
}

}  // namespace fovea
