// CLIP text -> image relevance (Chefer's rule, a Grad-CAM baseline), image -> token relevance,
// and the RefAM-style exclusion of attention-magnet tokens, on the tiny CLIP fixture.
#include "core/explain/attention_maps.h"
#include "core/explain/clip_relevance.h"
#include "core/explain/explainer.h"
#include "core/model/registry.h"
#include "core/util/error.h"
#include "text_test_util.h"

#include <gtest/gtest.h>

using namespace fovea;
using namespace fovea::testing_text;

namespace {

const std::string kClip = kModels + "openai-clip-tiny";

TEST(ClipRelevance, CheferMapsFollowTheRuleOnBothTowers) {
    const std::unique_ptr<Model> model = openModel(kClip);
    const ImageInput image = loadImageInput(kClip + "/input.png", model->spec());
    const TextInput text = loadTokenIds(kClip + "/input_ids.npy", model->spec());
    const ClipRelevance r = explainImageText(*model, image, text);
    ASSERT_EQ(r.imageMap.rows, 4);
    ASSERT_EQ(r.imageMap.cols, 4);
    EXPECT_NEAR(r.similarity, readNpy(kClip + "/expected_logits_per_image.npy").toFloats()[0], 1e-4);

    // The same rule applied here to the captured stacks (gradients of the similarity).
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    request.gradients = true;
    const ModelOutputs out = model->runImageText(image, text, request);
    ASSERT_TRUE(out.attention.hasGradients());
    ASSERT_TRUE(out.textAttention.hasGradients());
    const std::vector<float> vision = cheferRelevanceMatrix(out.attention);
    for (int row = 0; row < 4; ++row) {
        for (int col = 0; col < 4; ++col) {
            EXPECT_NEAR(r.imageMap.at<float>(row, col), vision[std::size_t(1 + row * 4 + col)], 1e-6);  // CLS row
        }
    }
    // Text: the row of the end-of-text token (position 5, where CLIP pools); nothing after it.
    const std::vector<float> textR = cheferRelevanceMatrix(out.textAttention);
    ASSERT_EQ(r.tokenRelevance.size(), 10u);
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(r.tokenRelevance[std::size_t(k)], textR[std::size_t(5 * 10 + k)], 1e-6);
    for (int k = 6; k < 10; ++k) EXPECT_EQ(r.tokenRelevance[std::size_t(k)], 0.0f);
    EXPECT_GE(r.tokenRelevance[5], 1.0f);
}

TEST(ClipRelevance, GradCamIsNonNegativeOnThePatchGrid) {
    const std::unique_ptr<Model> model = openModel(kClip);
    const ImageInput image = loadImageInput(kClip + "/input_tensor.npy", model->spec());
    const TextInput text = loadTokenIds(kClip + "/input_ids.npy", model->spec());
    ClipRelevanceOptions options;
    options.method = "gradcam";
    const ClipRelevance r = explainImageText(*model, image, text, options);
    ASSERT_EQ(r.imageMap.rows, 4);
    double sum = 0.0;
    for (int i = 0; i < 16; ++i) {
        EXPECT_GE(r.imageMap.at<float>(i / 4, i % 4), 0.0f);
        sum += r.imageMap.at<float>(i / 4, i % 4);
    }
    EXPECT_GT(sum, 0.0);
    EXPECT_NEAR(r.similarity, r.similarityAsGiven, 1e-5);
    options.method = "lrp";
    EXPECT_THROW(explainImageText(*model, image, text, options), Error);
}

TEST(ClipRelevance, MagnetsAreFoundByTheirText) {
    std::vector<TokenInfo> tokens(5);
    const char* texts[] = {"<|startoftext|>", "a</w>", "red</w>", "The</w>", "<|endoftext|>"};
    for (int i = 0; i < 5; ++i) {
        tokens[std::size_t(i)].kind = (i == 0 || i == 4) ? TokenKind::Special : TokenKind::Text;
        tokens[std::size_t(i)].text = texts[i];
    }
    EXPECT_EQ(attentionMagnets(TokenLayout::forText(tokens), {}), (std::vector<int>{1, 3, 4}));
    EXPECT_EQ(attentionMagnets(TokenLayout::forText(tokens), {"red"}), (std::vector<int>{2, 4}));
}

TEST(ClipRelevance, ExcludedMagnetsAreMaskedAsKeysAndGetNoRelevance) {
    const std::unique_ptr<Model> model = openModel(kClip);
    const ImageInput image = loadImageInput(kClip + "/input.png", model->spec());
    TextInput text = loadTokenIds(kClip + "/input_ids.npy", model->spec());
    std::vector<TokenInfo> tokens = text.tokens.tokens();
    tokens[2].text = "the</w>";  // a stop word at position 2
    text.tokens = TokenLayout::forText(tokens);
    ClipRelevanceOptions options;
    options.excludeMagnets = true;
    const ClipRelevance r = explainImageText(*model, image, text, options);
    EXPECT_EQ(r.excluded, (std::vector<int>{2, 5}));
    EXPECT_EQ(r.tokenRelevance[2], 0.0f);
    EXPECT_EQ(r.tokenRelevance[5], 0.0f);
    // The similarity is that of the text with position 2 masked as a key, run directly.
    TextInput masked = text;
    masked.attentionMask = std::vector<std::int64_t>(10, 1);
    masked.attentionMask[2] = 0;
    const ModelOutputs direct = model->runImageText(image, masked, CaptureRequest::nothing());
    EXPECT_NEAR(r.similarity, direct.similarity, 1e-5);
    EXPECT_GT(std::fabs(r.similarity - r.similarityAsGiven), 1e-6);
}

TEST(ClipRelevance, OnlyImageTextModels) {
    const std::unique_ptr<Model> gpt2 = openModel(kModels + "hf-gpt2-tiny");
    EXPECT_THROW(explainImageText(*gpt2, ImageInput{}, textInputFromIds({1}, gpt2->spec())), Error);
}

}  // namespace
