// Model-level explanation methods (the CAM family, gradient attributions, occlusion, RISE)
// against independent re-computations on the tiny timm fixture ViT: gradients by central finite
// differences on a float64 copy of the model, formulas evaluated with plain loops, perturbations
// re-run image by image.
#include "core/explain/explainer.h"
#include "core/model/registry.h"
#include "core/model/vit.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <cmath>
#include <random>

using namespace fovea;

namespace {

const std::string kTimm = std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny";

struct Fixture {
    std::unique_ptr<Model> model;
    VitModel* vit = nullptr;
    ImageInput input;
    std::unique_ptr<VitModel> reference;  // the same weights in float64
    at::Tensor pixels;                    // float64 [1, 3, H, W]

    Fixture() {
        model = openModel(kTimm);
        vit = dynamic_cast<VitModel*>(model.get());
        input = loadImageInput(kTimm + "/input_tensor.npy", model->spec());
        VitWeights weights = vit->weights();
        for (auto& [name, tensor] : weights.namedTensors()) *tensor = tensor->to(at::kDouble);
        reference = std::make_unique<VitModel>(model->spec(), weights, "cpu");
        pixels = torch::from_blob(input.pixels.data(), {1, 3, input.height, input.width}, at::kFloat).to(at::kDouble);
    }

    double logit(const at::Tensor& x, int target, FeatureTap* tap = nullptr) {
        torch::NoGradGuard noGrad;
        return reference->logits(x, tap)[0][target].item<double>();
    }
    double probability(const at::Tensor& x, int target) {
        torch::NoGradGuard noGrad;
        return reference->logits(x).softmax(1)[0][target].item<double>();
    }

    // Activations [C][h*w] at a feature layer and their gradients by central differences.
    struct Grid {
        int channels = 0, rows = 0, cols = 0;
        std::vector<double> values, gradients;
        double at(int c, int i) const { return values[std::size_t(c) * std::size_t(rows * cols) + std::size_t(i)]; }
        double grad(int c, int i) const { return gradients[std::size_t(c) * std::size_t(rows * cols) + std::size_t(i)]; }
    };
    Grid grid(int layer, int target, bool withGradients) {
        FeatureTap tap;
        tap.layer = layer;
        logit(pixels, target, &tap);
        const at::Tensor a = tap.features[0].contiguous();
        Grid g;
        g.channels = int(a.size(0));
        g.rows = int(a.size(1));
        g.cols = int(a.size(2));
        g.values.assign(a.data_ptr<double>(), a.data_ptr<double>() + a.numel());
        if (!withGradients) return g;
        const double eps = 1e-5;
        g.gradients.resize(g.values.size());
        for (std::size_t e = 0; e < g.values.size(); ++e) {
            auto shifted = [&](double delta) {
                FeatureTap probe;
                probe.layer = layer;
                probe.replace = [&](const at::Tensor& features) {
                    at::Tensor copy = features.clone(at::MemoryFormat::Contiguous);
                    copy.view({-1})[int64_t(e)] += delta;
                    return copy;
                };
                return logit(pixels, target, &probe);
            };
            g.gradients[e] = (shifted(eps) - shifted(-eps)) / (2 * eps);
        }
        return g;
    }

    cv::Mat explain(const std::string& method, ExplainParams given = {}, int target = -1, std::vector<std::pair<std::string, double>>* notes = nullptr) {
        ExplainContext context(*model, input, target);
        const Explainer& e = findExplainer(method);
        cv::Mat map = e.explain(context, e.resolve(given));
        if (notes) *notes = context.notes();
        return map;
    }
};

double maxAbsDifference(const cv::Mat& map, const std::vector<double>& expected) {
    EXPECT_EQ(std::size_t(map.total()), expected.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(double(map.at<float>(int(i))) - expected[i]));
    return worst;
}

double maxAbs(const std::vector<double>& values) {
    double m = 0.0;
    for (double v : values) m = std::max(m, std::abs(v));
    return m;
}

// Σ_k w_k A_k, ReLU.
std::vector<double> weightedCam(const Fixture::Grid& g, const std::vector<double>& weights) {
    std::vector<double> cam(std::size_t(g.rows * g.cols), 0.0);
    for (int c = 0; c < g.channels; ++c) {
        for (int i = 0; i < g.rows * g.cols; ++i) cam[std::size_t(i)] += weights[std::size_t(c)] * g.at(c, i);
    }
    for (double& v : cam) v = std::max(v, 0.0);
    return cam;
}

TEST(ModelMethods, CamFamilyMatchesItsFormulasWithFiniteDifferenceGradients) {
    Fixture f;
    const int target = 2;
    // Layer 2 is the default (the last block's input). There HiResCAM is identically zero: the
    // patch tokens reach the CLS output only through norm1, which is invariant to scaling a token,
    // so Σ_k A_k ∂y/∂A_k = 0 at every position. Layer 1 checks it with a non-zero map.
    for (const int layer : {1, 2}) {
    const Fixture::Grid g = f.grid(layer, target, true);
    const int positions = g.rows * g.cols;
    ASSERT_EQ(g.rows, 4);
    ASSERT_EQ(g.channels, 48);
    ASSERT_GT(maxAbs(g.gradients), 1e-4);  // the check means something

    std::vector<double> gradCam(std::size_t(g.channels)), plusPlus(std::size_t(g.channels)), xGrad(std::size_t(g.channels));
    std::vector<double> hiRes(std::size_t(positions), 0.0), layerCam(std::size_t(positions), 0.0);
    for (int c = 0; c < g.channels; ++c) {
        double sumG = 0.0, sumA = 0.0, sumGA = 0.0;
        for (int i = 0; i < positions; ++i) {
            sumG += g.grad(c, i);
            sumA += g.at(c, i);
            sumGA += g.grad(c, i) * g.at(c, i);
        }
        gradCam[std::size_t(c)] = sumG / positions;
        xGrad[std::size_t(c)] = sumGA / (sumA + 1e-7);
        double w = 0.0;
        for (int i = 0; i < positions; ++i) {
            const double d = g.grad(c, i);
            const double alpha = d == 0.0 ? 0.0 : d * d / (2 * d * d + sumA * d * d * d + 1e-7);
            w += std::max(d, 0.0) * alpha;
            hiRes[std::size_t(i)] += d * g.at(c, i);
            layerCam[std::size_t(i)] += std::max(d, 0.0) * g.at(c, i);
        }
        plusPlus[std::size_t(c)] = w;
    }
    for (double& v : hiRes) v = std::max(v, 0.0);
    for (double& v : layerCam) v = std::max(v, 0.0);

    const std::vector<std::pair<std::string, std::vector<double>>> expected = {
        {"gradcam", weightedCam(g, gradCam)}, {"gradcam++", weightedCam(g, plusPlus)}, {"xgradcam", weightedCam(g, xGrad)},
        {"hirescam", hiRes},                  {"layercam", layerCam}};
    for (const auto& [method, values] : expected) {
        const cv::Mat map = f.explain(method, {{"layer", layer}}, target);
        ASSERT_EQ(map.rows, 4) << method;
        if (layer == 1) {
            ASSERT_GT(maxAbs(values), 1e-5) << method << ": the reference map is all zero, the test would be empty";
        }
        EXPECT_LT(maxAbsDifference(map, values), 2e-3 * maxAbs(values) + 1e-6) << method << " layer " << layer;
    }
    }
}

TEST(ModelMethods, GradCamDefaultsToTheLastBlockInputAndFollowsTheTarget) {
    Fixture f;
    const cv::Mat byDefault = f.explain("gradcam", {}, 1);
    const cv::Mat lastBlock = f.explain("gradcam", {{"layer", 2}}, 1);
    EXPECT_EQ(cv::norm(byDefault, lastBlock, cv::NORM_INF), 0.0);
    const cv::Mat otherClass = f.explain("gradcam", {{"layer", 2}}, 4);
    EXPECT_GT(cv::norm(lastBlock, otherClass, cv::NORM_INF), 1e-6);
    EXPECT_THROW(f.explain("gradcam", {{"layer", 3}}), Error);  // the fixture has 3 blocks
    EXPECT_THROW(f.explain("gradcam", {}, 5), Error);           // and 5 classes
}

TEST(ModelMethods, EigenCamIsTheFirstPrincipalComponentOfTheActivations) {
    Fixture f;
    const Fixture::Grid g = f.grid(1, 0, false);
    const int n = g.rows * g.cols, c = g.channels;
    // Centre each channel over positions; power iteration on the channel covariance.
    std::vector<double> centred(std::size_t(n * c));
    for (int k = 0; k < c; ++k) {
        double mean = 0.0;
        for (int i = 0; i < n; ++i) mean += g.at(k, i) / n;
        for (int i = 0; i < n; ++i) centred[std::size_t(i * c + k)] = g.at(k, i) - mean;
    }
    std::vector<double> v(std::size_t(c), 1.0);
    std::vector<double> next(std::size_t(c), 0.0);
    for (int iteration = 0; iteration < 2000; ++iteration) {
        std::vector<double> projected(std::size_t(n), 0.0);
        for (int i = 0; i < n; ++i) {
            for (int k = 0; k < c; ++k) projected[std::size_t(i)] += centred[std::size_t(i * c + k)] * v[std::size_t(k)];
        }
        std::fill(next.begin(), next.end(), 0.0);
        for (int i = 0; i < n; ++i) {
            for (int k = 0; k < c; ++k) next[std::size_t(k)] += centred[std::size_t(i * c + k)] * projected[std::size_t(i)];
        }
        double norm = 0.0;
        for (double x : next) norm += x * x;
        norm = std::sqrt(norm);
        for (int k = 0; k < c; ++k) v[std::size_t(k)] = next[std::size_t(k)] / norm;
    }
    std::vector<double> projection(std::size_t(n), 0.0);
    double agreement = 0.0, massMean = 0.0;
    std::vector<double> mass(std::size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
        for (int k = 0; k < c; ++k) {
            projection[std::size_t(i)] += centred[std::size_t(i * c + k)] * v[std::size_t(k)];
            mass[std::size_t(i)] += g.at(k, i);
        }
        massMean += mass[std::size_t(i)] / n;
    }
    for (int i = 0; i < n; ++i) agreement += projection[std::size_t(i)] * (mass[std::size_t(i)] - massMean);
    for (double& p : projection) p = std::max(agreement < 0 ? -p : p, 0.0);
    const cv::Mat map = f.explain("eigencam", {{"layer", 1}});
    EXPECT_LT(maxAbsDifference(map, projection), 1e-3 * maxAbs(projection));
}

TEST(ModelMethods, ScoreCamMatchesMaskedForwardPasses) {
    Fixture f;
    const int target = 3, layer = 2;
    const Fixture::Grid g = f.grid(layer, target, false);
    std::vector<double> scores;
    for (int k = 0; k < g.channels; ++k) {
        cv::Mat channel(g.rows, g.cols, CV_64F);
        for (int i = 0; i < g.rows * g.cols; ++i) channel.at<double>(i) = g.at(k, i);
        cv::Mat up;
        cv::resize(channel, up, cv::Size(f.input.width, f.input.height), 0, 0, cv::INTER_LINEAR);
        double low = 0.0, high = 0.0;
        cv::minMaxLoc(up, &low, &high);
        up = (up - low) / std::max(high - low, 1e-12);
        const at::Tensor mask = torch::from_blob(up.ptr<double>(), {1, 1, f.input.height, f.input.width}, at::kDouble).clone();
        scores.push_back(f.logit(f.pixels * mask, target));
    }
    const double top = *std::max_element(scores.begin(), scores.end());
    double total = 0.0;
    for (double& s : scores) total += (s = std::exp(s - top));
    for (double& s : scores) s /= total;
    const std::vector<double> expected = weightedCam(g, scores);
    std::vector<std::pair<std::string, double>> notes;
    const cv::Mat map = f.explain("scorecam", {{"layer", layer}}, target, &notes);
    EXPECT_LT(maxAbsDifference(map, expected), 1e-3 * maxAbs(expected) + 1e-7);
    EXPECT_EQ(notes.front().first, "forward_images");
    EXPECT_EQ(notes.front().second, 48.0);
}

TEST(ModelMethods, InputGradientsMatchFiniteDifferences) {
    Fixture f;
    const int target = 1;
    std::mt19937 random(3);
    const cv::Mat inputTimesGradient = f.explain("input-x-gradient", {{"sign", 2}}, target);
    const cv::Mat smooth = f.explain("smoothgrad", {{"noise", 0.0}, {"samples", 3}, {"sign", 1}}, target);
    ASSERT_EQ(inputTimesGradient.rows, 32);
    double worstIxG = 0.0, worstSmooth = 0.0, scale = 0.0;
    for (int trial = 0; trial < 10; ++trial) {
        const int row = int(random() % 32), col = int(random() % 32);
        double ixg = 0.0, gradientSum = 0.0;
        for (int c = 0; c < 3; ++c) {
            const double eps = 1e-5;
            at::Tensor up = f.pixels.clone(), down = f.pixels.clone();
            up[0][c][row][col] += eps;
            down[0][c][row][col] -= eps;
            const double d = (f.logit(up, target) - f.logit(down, target)) / (2 * eps);
            ixg += f.pixels[0][c][row][col].item<double>() * d;
            gradientSum += d;
        }
        scale = std::max(scale, std::abs(ixg));
        worstIxG = std::max(worstIxG, std::abs(double(inputTimesGradient.at<float>(row, col)) - ixg));
        worstSmooth = std::max(worstSmooth, std::abs(double(smooth.at<float>(row, col)) - std::abs(gradientSum)));
    }
    ASSERT_GT(scale, 1e-4);
    EXPECT_LT(worstIxG, 1e-3 * scale + 1e-6);
    EXPECT_LT(worstSmooth, 1e-3 * scale + 1e-5);
}

TEST(ModelMethods, IntegratedGradientsAreCompleteAndUseTheMidpointRule) {
    Fixture f;
    const int target = 0;
    // Completeness within 1% at 64 steps, from the black-image baseline and the mean baseline.
    for (const double baseline : {0.0, 1.0}) {
        std::vector<std::pair<std::string, double>> notes;
        const cv::Mat map = f.explain("integrated-gradients", {{"steps", 64}, {"baseline", baseline}}, target, &notes);
        std::map<std::string, double> facts(notes.begin(), notes.end());
        EXPECT_LT(facts.at("completeness_gap"), 0.01) << "baseline " << baseline;
        EXPECT_NEAR(cv::sum(map)[0], facts.at("attribution_sum"), 1e-3 * std::abs(facts.at("attribution_sum")) + 1e-5);
        // The logit difference is the model's, recomputed here in float64.
        at::Tensor base = at::zeros_like(f.pixels);
        if (baseline == 0.0) base.fill_(-1.0);  // the fixture normalises with mean 0.5, std 0.5
        EXPECT_NEAR(facts.at("logit_difference"), f.logit(f.pixels, target) - f.logit(base, target), 1e-4);
    }
    // One step: (x - x') times the gradient at the midpoint, by finite differences.
    const cv::Mat oneStep = f.explain("integrated-gradients", {{"steps", 1}, {"baseline", 1}}, target);
    const at::Tensor middle = f.pixels * 0.5;
    double worst = 0.0, scale = 0.0;
    for (const auto& [row, col] : std::vector<std::pair<int, int>>{{0, 0}, {5, 17}, {20, 9}, {31, 31}}) {
        double expected = 0.0;
        for (int c = 0; c < 3; ++c) {
            const double eps = 1e-5;
            at::Tensor up = middle.clone(), down = middle.clone();
            up[0][c][row][col] += eps;
            down[0][c][row][col] -= eps;
            expected += f.pixels[0][c][row][col].item<double>() * (f.logit(up, target) - f.logit(down, target)) / (2 * eps);
        }
        scale = std::max(scale, std::abs(expected));
        worst = std::max(worst, std::abs(double(oneStep.at<float>(row, col)) - expected));
    }
    ASSERT_GT(scale, 1e-5);
    EXPECT_LT(worst, 1e-3 * scale + 1e-6);
}

TEST(ModelMethods, OcclusionMatchesWindowByWindowForwardPasses) {
    Fixture f;
    const int target = 4;
    const cv::Mat map = f.explain("occlusion", {{"window", 16}, {"stride", 8}}, target);
    const double reference = f.probability(f.pixels, target);
    cv::Mat drop = cv::Mat::zeros(32, 32, CV_64F), count = cv::Mat::zeros(32, 32, CV_64F);
    for (int top = 0; top + 16 <= 32; top += 8) {
        for (int left = 0; left + 16 <= 32; left += 8) {
            at::Tensor occluded = f.pixels.clone();
            occluded.narrow(2, top, 16).narrow(3, left, 16).zero_();
            const double d = reference - f.probability(occluded, target);
            drop(cv::Rect(left, top, 16, 16)) += d;
            count(cv::Rect(left, top, 16, 16)) += 1.0;
        }
    }
    cv::Mat expected = drop / count;
    cv::Mat got;
    map.convertTo(got, CV_64F);
    EXPECT_GT(cv::norm(expected, cv::NORM_INF), 1e-4);
    EXPECT_LT(cv::norm(got, expected, cv::NORM_INF), 1e-5);
}

TEST(ModelMethods, RiseWeighsMasksByTheTargetProbability) {
    Fixture f;
    const int target = 2;
    // Every cell kept: every mask is all ones, so the map is P(x) everywhere.
    const cv::Mat full = f.explain("rise", {{"masks", 20}, {"keep", 1.0}}, target);
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(full, &low, &high);
    EXPECT_NEAR(low, f.probability(f.pixels, target), 1e-5);
    EXPECT_NEAR(high, low, 1e-5);
    // With p = 0.5 the expectation of M / p is one, so the map's mean is near the mean masked probability;
    // the same seed gives the same map, another seed another map.
    const cv::Mat a = f.explain("rise", {{"masks", 64}, {"seed", 1}}, target);
    const cv::Mat b = f.explain("rise", {{"masks", 64}, {"seed", 1}}, target);
    const cv::Mat c = f.explain("rise", {{"masks", 64}, {"seed", 2}}, target);
    EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
    EXPECT_GT(cv::norm(a, c, cv::NORM_INF), 0.0);
}

TEST(ModelMethods, EveryRegisteredMethodRunsThroughTheSameInterface) {
    Fixture f;
    for (const Explainer* method : explainers()) {
        ExplainParams given;
        if (method->name() == "rise") given["masks"] = 16;
        ExplainContext context(*f.model, f.input, 1);
        const cv::Mat map = method->explain(context, method->resolve(given));
        EXPECT_FALSE(map.empty()) << method->name();
        EXPECT_EQ(map.type(), CV_32F) << method->name();
        EXPECT_TRUE(cv::checkRange(map)) << method->name();
        EXPECT_FALSE(method->citation().empty());
        EXPECT_EQ(method->usesAttention(), method->family() == "attention") << method->name();
    }
}

}  // namespace
