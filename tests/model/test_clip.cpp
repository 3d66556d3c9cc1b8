// The native CLIP against the openai-clip-tiny (OpenAI's own model code) and hf-clip-tiny (the
// same weights in the transformers layout, re-checked by a numpy forward pass) fixtures: image
// and text embeddings, logits_per_image, vision and text attention, from the normalised tensor
// and from the PNG through CLIP's preprocessing.
#include "core/model/registry.h"
#include "core/util/error.h"
#include "text_test_util.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>

using namespace fovea;
using namespace fovea::testing_text;

namespace {

struct ClipCase {
    std::string folder;
    std::string image;
};

class ClipFixture : public ::testing::TestWithParam<ClipCase> {};

TEST_P(ClipFixture, EmbeddingsSimilarityAndBothAttentionStacksMatch) {
    const ClipCase& c = GetParam();
    const std::string dir = kModels + c.folder;
    const std::unique_ptr<Model> model = openModel(dir);
    const ModelSpec& spec = model->spec();
    EXPECT_EQ(spec.family, "clip");
    EXPECT_EQ(spec.modality, "image-text");
    EXPECT_EQ(spec.numHeads, 2);
    EXPECT_EQ(spec.textHeads, 2);
    EXPECT_EQ(spec.textDepth, 2);
    EXPECT_EQ(spec.projectionDim, 24);
    EXPECT_EQ(spec.contextLength, 10);
    EXPECT_TRUE(model->accepts(InputKind::ImageText));

    const ImageInput image = loadImageInput(dir + "/" + c.image, spec);
    const TextInput text = loadTokenIds(dir + "/input_ids.npy", spec);
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->runImageText(image, text, request);
    const std::string tag = c.folder + " (" + c.image + ") ";
    const float imageError = maxAbsDifference(out.imageEmbeds, readNpy(dir + "/expected_image_embeds.npy").toFloats());
    const float textError = maxAbsDifference(out.textEmbeds, readNpy(dir + "/expected_text_embeds.npy").toFloats());
    const float similarityError = maxAbsDifference({out.similarity}, readNpy(dir + "/expected_logits_per_image.npy").toFloats());
    const float visionAttention = attentionError(out.attention, dir + "/expected_vision_attention.npy");
    const float textAttention = attentionError(out.textAttention, dir + "/expected_text_attention.npy");
    reportError(tag + "image_embeds", imageError);
    reportError(tag + "text_embeds", textError);
    reportError(tag + "logits_per_image", similarityError);
    reportError(tag + "vision attention", visionAttention);
    reportError(tag + "text attention", textAttention);
    EXPECT_LT(imageError, 1e-4f);
    EXPECT_LT(textError, 1e-4f);
    EXPECT_LT(similarityError, 1e-4f);
    EXPECT_LT(visionAttention, 1e-4f);
    EXPECT_LT(textAttention, 1e-4f);
    EXPECT_TRUE(out.hasSimilarity);
    ASSERT_EQ(out.logits.size(), 1u);
    EXPECT_TRUE(out.textAttention.causal);
    EXPECT_FALSE(out.attention.causal);
    EXPECT_EQ(out.attention.tokens.firstOf(TokenKind::Cls), 0);
    EXPECT_EQ(out.textAttention.tokens[0].kind, TokenKind::Special);  // <|startoftext|>
    EXPECT_EQ(out.textAttention.tokens[5].label(), "<|endoftext|>");

    // Each tower alone gives the same embedding.
    const ModelOutputs imageOnly = model->run(image, CaptureRequest::nothing());
    const ModelOutputs textOnly = model->runText(text, CaptureRequest::nothing());
    EXPECT_LT(maxAbsDifference(imageOnly.imageEmbeds, out.imageEmbeds), 1e-5f);
    EXPECT_LT(maxAbsDifference(textOnly.textEmbeds, out.textEmbeds), 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Layouts, ClipFixture,
                         ::testing::Values(ClipCase{"openai-clip-tiny", "input_tensor.npy"}, ClipCase{"openai-clip-tiny", "input.png"},
                                           ClipCase{"hf-clip-tiny", "input_tensor.npy"}, ClipCase{"hf-clip-tiny", "input.png"}),
                         [](const auto& testInfo) {
                             std::string name = testInfo.param.folder + "_" + testInfo.param.image;
                             for (char& ch : name) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                             return name;
                         });

TEST(Clip, InfoDescribesBothTowers) {
    const std::unique_ptr<Model> model = openModel(kModels + "openai-clip-tiny");
    const std::string text = model->spec().describe();
    EXPECT_NE(text.find("vision       2 layers, 2 heads (head dim 64), width 128"), std::string::npos) << text;
    EXPECT_NE(text.find("text         2 layers, 2 heads (head dim 16), width 32"), std::string::npos) << text;
    const nlohmann::json json = model->spec().toJson();
    EXPECT_EQ(json["text"]["layers"], 2);
    EXPECT_EQ(json["vision"]["tokens"], 17);
}

TEST(Clip, ContradictingOpenClipConfigIsNamed) {
    const std::string folder = copyFixture("openai-clip-tiny", "clip_bad_config");
    nlohmann::json config = readJsonFile(folder + "/open_clip_config.json");
    config["model_cfg"]["text_cfg"]["context_length"] = 77;
    std::ofstream(folder + "/open_clip_config.json") << config.dump(1);
    try {
        openModel(folder);
        FAIL() << "contradiction accepted";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("open_clip_config.json: field 'text_cfg.context_length' is 77"), std::string::npos)
            << error.what();
    }
}

}  // namespace
