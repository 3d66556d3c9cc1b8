// Token explanations (core/explain/text_explain.h) on GPT-2 (next-token target) and BERT
// (class target): gradient x input against central finite differences of the score when one
// token's embedding is scaled, integrated gradients against completeness, and the attention
// methods against the captured attention read directly.
#include "core/explain/attention_maps.h"
#include "core/explain/text_explain.h"
#include "core/model/registry.h"
#include "core/util/error.h"
#include "text_test_util.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace fovea;
using namespace fovea::testing_text;

namespace {

struct TextCase {
    std::string folder;
    int target;  // -1: top-1
};

TextInput inputFor(const std::string& folder, const ModelSpec& spec) {
    const std::string dir = kModels + folder;
    TextInput input = loadTokenIds(dir + "/input_ids.npy", spec);
    if (folder == "hf-bert-tiny") {
        input.tokenTypes = readNpy(dir + "/token_type_ids.npy").toInt64s();
        input.attentionMask = readNpy(dir + "/attention_mask.npy").toInt64s();
    }
    return input;
}

class TextExplain : public ::testing::TestWithParam<TextCase> {};

TEST_P(TextExplain, GradientTimesInputMatchesFiniteDifferences) {
    const std::unique_ptr<Model> model = openModel(kModels + GetParam().folder);
    const TextInput input = inputFor(GetParam().folder, model->spec());
    const TextExplanation e = explainTokens(*model, input, "input-x-gradient", {}, GetParam().target);
    ASSERT_EQ(int(e.scores.size()), input.size());
    // d/dh score(e_t * (1 + h)) at h = 0 is Σ_d e_td ∂y/∂e_td, the token's score.
    const double h = 1e-2;
    for (int t = 0; t < input.size(); ++t) {
        std::vector<float> up(std::size_t(input.size()), 1.0f), down = up;
        up[std::size_t(t)] = float(1.0 + h);
        down[std::size_t(t)] = float(1.0 - h);
        const double fd = (scoreWithScaledEmbeddings(*model, input, up, e.target, e.position) -
                           scoreWithScaledEmbeddings(*model, input, down, e.target, e.position)) / (2 * h);
        EXPECT_NEAR(e.scores[std::size_t(t)], fd, 2e-3 + 2e-2 * std::fabs(fd)) << "token " << t;
    }
}

TEST_P(TextExplain, IntegratedGradientsAreComplete) {
    const std::unique_ptr<Model> model = openModel(kModels + GetParam().folder);
    const TextInput input = inputFor(GetParam().folder, model->spec());
    const TextExplanation e = explainTokens(*model, input, "integrated-gradients", {{"steps", 256}}, GetParam().target);
    const double total = std::accumulate(e.scores.begin(), e.scores.end(), 0.0);
    const std::vector<float> ones(std::size_t(input.size()), 1.0f), zeros(std::size_t(input.size()), 0.0f);
    const double delta = scoreWithScaledEmbeddings(*model, input, ones, e.target, e.position) -
                         scoreWithScaledEmbeddings(*model, input, zeros, e.target, e.position);
    EXPECT_NEAR(total, delta, 1e-2 * std::max(1.0, std::fabs(delta)));
    double gap = -1.0;
    for (const auto& [key, value] : e.notes) {
        if (key == "completeness_gap") gap = value;
    }
    std::printf("[ ig    ] %s completeness gap %.2e (sum %.5f, f(x)-f(0) %.5f)\n", GetParam().folder.c_str(), gap, total, delta);
    EXPECT_GE(gap, 0.0);
    EXPECT_LT(gap, 1e-2);
}

TEST_P(TextExplain, AttentionMethodsReadTheCapturedRows) {
    const std::unique_ptr<Model> model = openModel(kModels + GetParam().folder);
    const TextInput input = inputFor(GetParam().folder, model->spec());
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->runText(input, request);
    const int n = input.size();
    const TextExplanation raw = explainTokens(*model, input, "raw", {{"query", 3}}, GetParam().target);
    ASSERT_EQ(raw.query, 3);
    const AttentionLayer& last = out.attention.layer(out.attention.modelLayers - 1);
    for (int k = 0; k < n; ++k) {
        double mean = 0.0;
        for (int slot = 0; slot < int(last.heads.size()); ++slot) mean += last.value(slot, 3, k) / double(last.heads.size());
        EXPECT_NEAR(raw.scores[std::size_t(k)], mean, 1e-6);
    }
    const TextExplanation rollout = explainTokens(*model, input, "rollout", {}, GetParam().target);
    EXPECT_NEAR(std::accumulate(rollout.scores.begin(), rollout.scores.end(), 0.0), 1.0, 1e-5);
    if (model->spec().causal) {
        EXPECT_EQ(rollout.query, n - 1);  // the position whose next token is explained
        const TextExplanation early = explainTokens(*model, input, "rollout", {{"query", 4}});
        for (int k = 5; k < n; ++k) EXPECT_EQ(early.scores[std::size_t(k)], 0.0f);  // nothing flows from the future
    } else {
        EXPECT_EQ(rollout.query, 0);  // [CLS], where the classifier reads
        for (int k = 8; k < n; ++k) EXPECT_NEAR(rollout.scores[std::size_t(k)], 0.0, 1e-6);  // padding: no flow
    }
    const TextExplanation chefer = explainTokens(*model, input, "chefer", {}, GetParam().target);
    EXPECT_EQ(int(chefer.scores.size()), n);
    EXPECT_GE(chefer.scores[std::size_t(chefer.query)], 1.0f);  // R = I + ...: the query keeps its own relevance
}

INSTANTIATE_TEST_SUITE_P(Models, TextExplain, ::testing::Values(TextCase{"hf-gpt2-tiny", -1}, TextCase{"hf-bert-tiny", 1}),
                         [](const auto& testInfo) { return testInfo.param.folder == "hf-gpt2-tiny" ? std::string("gpt2") : std::string("bert"); });

TEST(TextExplainRegistry, TheRegistrySaysWhichMethodsExplainTokens) {
    EXPECT_TRUE(findExplainer("integrated-gradients").explainsTokens());
    EXPECT_TRUE(findExplainer("input-x-gradient").explainsTokens());
    EXPECT_TRUE(findExplainer("rollout").explainsTokens());
    EXPECT_FALSE(findExplainer("gradcam").explainsTokens());
    const std::unique_ptr<Model> gpt2 = openModel(kModels + "hf-gpt2-tiny");
    const TextInput input = textInputFromIds({1, 2, 3}, gpt2->spec());
    EXPECT_THROW(explainTokens(*gpt2, input, "gradcam"), Error);
    EXPECT_THROW(explainTokens(*gpt2, input, "integrated-gradients", {{"window", 3}}), Error);
    EXPECT_THROW(explainTokens(*gpt2, input, "input-x-gradient", {}, /*target*/ 64), Error);
    const std::unique_ptr<Model> vit = openModel(kModels + "timm-vit-tiny");
    EXPECT_THROW(explainTokens(*vit, input, "rollout"), Error);
}

}  // namespace
