// Explanation methods: captured attention gradients against finite differences on the fixture
// model, gradient rollout and Chefer relevance against direct re-computations, the registry.
#include "core/explain/explainer.h"
#include "core/io/npy.h"
#include "core/model/registry.h"
#include "core/model/vit.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <random>
#include <set>

using namespace fovea;

namespace {

const std::string kTimm = std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny";

ImageInput fixtureInput(const ModelSpec& spec) { return loadImageInput(kTimm + "/input_tensor.npy", spec); }

ModelOutputs runWithGradients(Model& model, int target) {
    CaptureRequest request;
    request.gradients = true;
    request.gradientTarget = target;
    request.precision = AttentionPrecision::Float32;
    return model.run(fixtureInput(model.spec()), request);
}

TEST(Explain, AttentionGradientsMatchFiniteDifferences) {
    const std::unique_ptr<Model> model = openModel(kTimm);
    auto* vit = dynamic_cast<VitModel*>(model.get());
    ASSERT_NE(vit, nullptr);
    const int target = 3;
    const ModelOutputs out = runWithGradients(*model, target);
    const ImageInput input = fixtureInput(model->spec());
    const at::Tensor pixels = torch::from_blob(const_cast<float*>(input.pixels.data()), {1, 3, 32, 32}, at::kFloat)
                                  .to(at::kDouble);
    // Finite differences in double precision: a copy of the model's weights as float64.
    std::mt19937 generator(5);
    const int n = out.attention.tokens.size();
    double worst = 0.0, largest = 0.0;
    for (int trial = 0; trial < 12; ++trial) {
        const int layer = int(generator() % 3), head = int(generator() % 3);
        const int query = int(generator() % std::uint32_t(n)), key = int(generator() % std::uint32_t(n));
        const double eps = 1e-3;
        auto logitWith = [&](double delta) {
            torch::NoGradGuard noGrad;
            ForwardCapture capture;
            capture.attentionOffset.assign(3, at::Tensor());
            at::Tensor offset = at::zeros({1, 3, n, n}, at::kFloat);
            offset.index_put_({0, head, query, key}, delta);
            capture.attentionOffset[std::size_t(layer)] = offset;
            return double(vit->forward(pixels.to(at::kFloat), &capture).index({0, target}).item<float>());
        };
        const double numeric = (logitWith(eps) - logitWith(-eps)) / (2 * eps);
        const AttentionLayer& captured = out.attention.layer(layer);
        const double analytic = captured.gradient[(std::size_t(head) * n + query) * n + key];
        worst = std::max(worst, std::abs(numeric - analytic));
        largest = std::max(largest, std::abs(numeric));
        EXPECT_NEAR(analytic, numeric, 1e-4 + 1e-2 * std::abs(numeric))
            << "layer " << layer << " head " << head << " (" << query << ", " << key << ")";
    }
    // The check means something only if the gradients are not all tiny.
    EXPECT_GT(largest, 2e-3);
    RecordProperty("worst_abs_error", std::to_string(worst));
    RecordProperty("largest_gradient", std::to_string(largest));
}

// Independent re-computations in double from A and dy/dA as the papers define them.
std::vector<double> referenceChefer(const AttentionStack& stack) {
    const int n = stack.tokens.size();
    std::vector<double> r(std::size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i) r[std::size_t(i * n + i)] = 1.0;
    for (const AttentionLayer& layer : stack.layers) {
        const std::vector<float> a = layer.allValues();
        const int heads = int(layer.heads.size());
        std::vector<double> bar(std::size_t(n) * n, 0.0);
        for (int h = 0; h < heads; ++h)
            for (int i = 0; i < n * n; ++i) {
                const std::size_t at = std::size_t(h) * n * n + std::size_t(i);
                bar[std::size_t(i)] += std::max(0.0, double(a[at]) * layer.gradient[at]) / heads;
            }
        std::vector<double> next = r;
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                double s = 0.0;
                for (int k = 0; k < n; ++k) s += bar[std::size_t(i * n + k)] * r[std::size_t(k * n + j)];
                next[std::size_t(i * n + j)] += s;
            }
        r = next;
    }
    return r;
}

std::vector<double> referenceGradientRollout(const AttentionStack& stack) {
    const int n = stack.tokens.size();
    std::vector<double> r(std::size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i) r[std::size_t(i * n + i)] = 1.0;
    for (const AttentionLayer& layer : stack.layers) {
        const std::vector<float> a = layer.allValues();
        const int heads = int(layer.heads.size());
        std::vector<double> step(std::size_t(n) * n, 0.0);
        for (int i = 0; i < n * n; ++i) {
            double mean = 0.0;
            for (int h = 0; h < heads; ++h) {
                const std::size_t at = std::size_t(h) * n * n + std::size_t(i);
                mean += double(a[at]) * layer.gradient[at] / heads;
            }
            step[std::size_t(i)] = 0.5 * std::max(0.0, mean) + (i / n == i % n ? 0.5 : 0.0);
        }
        for (int i = 0; i < n; ++i) {
            double sum = 0.0;
            for (int j = 0; j < n; ++j) sum += step[std::size_t(i * n + j)];
            for (int j = 0; j < n; ++j) step[std::size_t(i * n + j)] /= sum;
        }
        std::vector<double> next(r.size(), 0.0);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j)
                for (int k = 0; k < n; ++k) next[std::size_t(i * n + j)] += step[std::size_t(i * n + k)] * r[std::size_t(k * n + j)];
        r = next;
    }
    return r;
}

TEST(Explain, GradientMethodsMatchTheirDefinitions) {
    const std::unique_ptr<Model> model = openModel(kTimm);
    for (const int target : {0, 4}) {
        const ModelOutputs out = runWithGradients(*model, target);
        const std::vector<float> chefer = cheferRelevanceMatrix(out.attention);
        const std::vector<double> expectedChefer = referenceChefer(out.attention);
        const std::vector<float> grad = gradientRolloutMatrix(out.attention);
        const std::vector<double> expectedGrad = referenceGradientRollout(out.attention);
        for (std::size_t i = 0; i < chefer.size(); ++i) {
            ASSERT_NEAR(chefer[i], expectedChefer[i], 1e-6 + 1e-5 * std::abs(expectedChefer[i])) << i;
            ASSERT_NEAR(grad[i], expectedGrad[i], 1e-6) << i;
        }
        // Through the registry: the CLS row over the 4x4 grid.
        const Explainer& method = findExplainer("chefer");
        const cv::Mat map = method.compute(out.attention, method.defaults());
        ASSERT_EQ(map.size(), cv::Size(4, 4));
        for (int p = 0; p < 16; ++p) EXPECT_FLOAT_EQ(map.at<float>(p / 4, p % 4), chefer[std::size_t(1 + p)]);
    }
    // Different targets give different relevance (the gradient matters).
    const std::vector<float> a = cheferRelevanceMatrix(runWithGradients(*model, 0).attention);
    const std::vector<float> b = cheferRelevanceMatrix(runWithGradients(*model, 4).attention);
    double differ = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) differ = std::max(differ, double(std::abs(a[i] - b[i])));
    EXPECT_GT(differ, 1e-6);
}

TEST(Explain, RegistryRawAndRolloutMatchTheFixture) {
    const std::unique_ptr<Model> model = openModel(kTimm);
    const Explainer& rollout = findExplainer("rollout");
    ExplainParams params = rollout.resolve({});
    CaptureRequest request = rollout.capture(params);
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->run(fixtureInput(model->spec()), request);
    const cv::Mat map = rollout.compute(out.attention, params);
    const std::vector<float> expected = readNpy(kTimm + "/expected_rollout.npy").toFloats();
    for (int p = 0; p < 16; ++p) EXPECT_NEAR(map.at<float>(p / 4, p % 4), expected[std::size_t(1 + p)], 1e-5);

    const Explainer& raw = findExplainer("raw");
    params = raw.resolve({{"layer", 1}, {"head", 2}, {"query", 5}});
    request = raw.capture(params);
    EXPECT_EQ(request.layers, std::vector<int>{1});
    const cv::Mat rawMap = raw.compute(out.attention, params);
    const std::vector<float> attention = readNpy(kTimm + "/expected_attention.npy").toFloats();
    for (int p = 0; p < 16; ++p) {
        EXPECT_NEAR(rawMap.at<float>(p / 4, p % 4), attention[((std::size_t(1) * 3 + 2) * 17 + 5) * 17 + 1 + std::size_t(p)], 1e-5);
    }
}

TEST(Explain, RegistryAndParameterErrors) {
    const std::vector<std::string> names = explainerNames();
    for (const char* required : {"raw", "rollout", "flow", "gradient-rollout", "chefer", "gradcam", "gradcam++", "xgradcam",
                                 "hirescam", "layercam", "eigencam", "scorecam", "input-x-gradient", "smoothgrad",
                                 "integrated-gradients", "occlusion", "rise"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
    }
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
    for (const Explainer* e : explainers()) {
        EXPECT_FALSE(e->citation().empty()) << e->name();
        EXPECT_EQ(e->capture(e->defaults()).gradients, e->needsGradients()) << e->name();
    }
    try {
        findExplainer("lime");
        FAIL();
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("chefer"), std::string::npos);
    }
    EXPECT_THROW(findExplainer("rollout").resolve({{"discard", 1.5}}), Error);
    EXPECT_THROW(findExplainer("rollout").resolve({{"layer", 1}}), Error);
    EXPECT_THROW(findExplainer("raw").resolve({{"head", 0.5}}), Error);
    EXPECT_EQ(parseExplainerParam("discard=0.9").second, 0.9);
    EXPECT_THROW(parseExplainerParam("discard"), Error);
    EXPECT_THROW(parseExplainerParam("discard=high"), Error);
    // Gradient methods refuse attention captured without gradients.
    AttentionStack stack;
    stack.modelLayers = 1;
    stack.modelHeads = 1;
    stack.tokens = TokenLayout::forVisionTransformer(true, false, 0, 1, 1);
    AttentionLayer layer;
    layer.tokens = 2;
    layer.heads = {0};
    layer.precision = AttentionPrecision::Float32;
    layer.floatValues = {0.5f, 0.5f, 0.5f, 0.5f};
    stack.layers.push_back(layer);
    EXPECT_THROW(cheferRelevanceMatrix(stack), Error);
}

}  // namespace
