// The native GPT-2 against the hf-gpt2-tiny fixture (reference logits and attention from
// nanoGPT's implementation, re-checked by a plain numpy one; see tests/data/models/README.md),
// its causal mask, and every documented bad input.
#include "core/model/registry.h"
#include "core/util/error.h"
#include "text_test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

using namespace fovea;
using namespace fovea::testing_text;

namespace {

const std::string kGpt2 = kModels + "hf-gpt2-tiny";

TEST(Gpt2, SpecComesFromConfigAndTensors) {
    const std::unique_ptr<Model> model = openModel(kGpt2);
    const ModelSpec& spec = model->spec();
    EXPECT_EQ(spec.family, "gpt2");
    EXPECT_EQ(spec.architecture, "GPT2LMHeadModel");
    EXPECT_EQ(spec.depth, 2);
    EXPECT_EQ(spec.numHeads, 2);
    EXPECT_EQ(spec.embedDim, 32);
    EXPECT_EQ(spec.mlpHidden, 128);
    EXPECT_EQ(spec.vocabSize, 64);
    EXPECT_EQ(spec.contextLength, 32);
    EXPECT_TRUE(spec.causal);
    EXPECT_EQ(spec.activation, "gelu_tanh");
    EXPECT_TRUE(model->accepts(InputKind::Text));
    EXPECT_FALSE(model->accepts(InputKind::Image));
    EXPECT_NE(spec.describe().find("context      32 positions"), std::string::npos);
    EXPECT_EQ(spec.toJson()["vocab_size"], 64);
}

TEST(Gpt2, LogitsAtEveryPositionAndAttentionMatchTheReference) {
    const std::unique_ptr<Model> model = openModel(kGpt2);
    const TextInput input = loadTokenIds(kGpt2 + "/input_ids.npy", model->spec());
    ASSERT_EQ(input.size(), 12);
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->runText(input, request);
    ASSERT_EQ(out.positions, 12);
    const std::vector<float> expected = readNpy(kGpt2 + "/expected_logits.npy").toFloats();
    const float logitError = maxAbsDifference(out.positionLogits, expected);
    reportError("hf-gpt2-tiny logits [1,12,64]", logitError);
    EXPECT_LT(logitError, 1e-4f);
    // `logits` is the last position's next-token distribution.
    const std::vector<float> last(expected.end() - 64, expected.end());
    EXPECT_LT(maxAbsDifference(out.logits, last), 1e-4f);
    const float attentionErr = attentionError(out.attention, kGpt2 + "/expected_attention.npy");
    reportError("hf-gpt2-tiny attention [2,2,12,12]", attentionErr);
    EXPECT_LT(attentionErr, 1e-4f);

    // Causal rows: nothing on future keys, marked as masked (not merely zero), rows sum to one.
    EXPECT_TRUE(out.attention.causal);
    for (const AttentionLayer& layer : out.attention.layers) {
        for (int slot = 0; slot < int(layer.heads.size()); ++slot) {
            for (int q = 0; q < 12; ++q) {
                double sum = 0.0;
                for (int k = 0; k < 12; ++k) {
                    sum += layer.value(slot, q, k);
                    if (k > q) {
                        EXPECT_EQ(layer.value(slot, q, k), 0.0f);
                        EXPECT_TRUE(out.attention.isMasked(q, k));
                    } else {
                        EXPECT_FALSE(out.attention.isMasked(q, k));
                    }
                }
                EXPECT_NEAR(sum, 1.0, 1e-5);
            }
        }
    }
}

TEST(Gpt2, Float16CaptureAndLayerSelection) {
    const std::unique_ptr<Model> model = openModel(kGpt2);
    const TextInput input = loadTokenIds(kGpt2 + "/input_ids.npy", model->spec());
    CaptureRequest request;
    request.layers = {1};
    request.heads = {0};
    const ModelOutputs out = model->runText(input, request);
    ASSERT_EQ(out.attention.layers.size(), 1u);
    const AttentionLayer& layer = out.attention.layers[0];
    EXPECT_EQ(layer.layer, 1);
    EXPECT_EQ(layer.precision, AttentionPrecision::Float16);
    ASSERT_EQ(layer.heads, std::vector<int>{0});
    const std::vector<float> expected = readNpy(kGpt2 + "/expected_attention.npy").toFloats();
    // Layer 1, head 0 of the [2,2,12,12] reference; float16 keeps about 3 decimal digits.
    const std::vector<float> reference(expected.begin() + 2 * 144, expected.begin() + 3 * 144);
    EXPECT_LT(maxAbsDifference(layer.matrix(0), reference), 1e-3f);
}

TEST(Gpt2, TokensCarryIdsAndTheEndOfTextTokenIsSpecial) {
    const std::unique_ptr<Model> model = openModel(kGpt2);
    TextInput input = textInputFromIds({5, 63, 7}, model->spec(), "ids");
    EXPECT_EQ(input.tokens[0].kind, TokenKind::Text);
    EXPECT_EQ(input.tokens[0].tokenId, 5);
    EXPECT_EQ(input.tokens[1].kind, TokenKind::Special);
    EXPECT_EQ(input.tokens[1].label(), "<|endoftext|>");
    const ModelOutputs out = model->runText(input, CaptureRequest{});
    EXPECT_EQ(out.attention.tokens.size(), 3);
    EXPECT_EQ(out.attention.tokens[1].kind, TokenKind::Special);
}

std::string errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    return "(no error)";
}

TEST(Gpt2, BadInputsNameTheProblem) {
    const std::unique_ptr<Model> model = openModel(kGpt2);
    const ModelSpec& spec = model->spec();
    // Out of vocabulary.
    EXPECT_NE(errorOf([&] { model->runText(textInputFromIds({1, 64}, spec, "ids.npy"), CaptureRequest{}); })
                  .find("token id 64 at position 1 is outside the vocabulary (0..63)"),
              std::string::npos);
    // Empty.
    EXPECT_NE(errorOf([&] { model->runText(textInputFromIds({}, spec, "empty"), CaptureRequest{}); }).find("is empty"),
              std::string::npos);
    // Longer than the context: refused by default, truncated with a notice when asked.
    std::vector<std::int64_t> many(40, 3);
    many.back() = 63;
    TextInput longInput = textInputFromIds(many, spec, "long.npy");
    EXPECT_NE(errorOf([&] { model->runText(longInput, CaptureRequest{}); }).find("40 tokens but the model's context is 32"),
              std::string::npos);
    TextInput refused = longInput;
    EXPECT_THROW(fitTextInput(refused, spec, ContextOverflow::Refuse), Error);
    fitTextInput(longInput, spec, ContextOverflow::Truncate);
    ASSERT_EQ(longInput.size(), 32);
    EXPECT_EQ(longInput.ids.back(), 63);  // the final <|endoftext|> is kept
    ASSERT_EQ(longInput.notices.size(), 1u);
    EXPECT_NE(longInput.notices[0].find("truncated from 40 to 32 tokens"), std::string::npos);
    const ModelOutputs out = model->runText(longInput, CaptureRequest::nothing());
    EXPECT_EQ(out.notices, longInput.notices);
    // Images are refused.
    ImageInput image;
    EXPECT_NE(errorOf([&] { model->run(image, CaptureRequest{}); }).find("takes text (token ids), not images"), std::string::npos);
}

TEST(Gpt2, WrongNpyDtypeOrShape) {
    const std::unique_ptr<Model> model = openModel(kGpt2);
    const std::string floats = (std::filesystem::temp_directory_path() / "fovea_lm_float_ids.npy").string();
    writeNpy(floats, NpyArray::fromFloats({1, 3}, {1, 2, 3}));
    EXPECT_NE(errorOf([&] { loadTokenIds(floats, model->spec()); }).find("dtype <f4; expected int64"), std::string::npos);
    const std::string batch = (std::filesystem::temp_directory_path() / "fovea_lm_batch_ids.npy").string();
    writeNpy(batch, NpyArray::fromInt64s({2, 2}, {1, 2, 3, 4}));
    EXPECT_NE(errorOf([&] { loadTokenIds(batch, model->spec()); }).find("shape [2,2]; expected [T] or [1,T]"), std::string::npos);
}

TEST(Gpt2, ConfigThatContradictsTheTensorsIsNamed) {
    const std::string folder = copyFixture("hf-gpt2-tiny", "gpt2_bad_config");
    nlohmann::json config = readJsonFile(folder + "/config.json");
    config["n_layer"] = 3;
    std::ofstream(folder + "/config.json") << config.dump(1);
    const std::string message = errorOf([&] { openModel(folder); });
    EXPECT_NE(message.find("config.json: field 'n_layer' is 3"), std::string::npos) << message;
    config["n_layer"] = 2;
    config["n_head"] = 3;
    std::ofstream(folder + "/config.json") << config.dump(1);
    EXPECT_NE(errorOf([&] { openModel(folder); }).find("'n_head' must divide n_embd 32"), std::string::npos);
}

TEST(Gpt2, VisionModelsRefuseText) {
    const std::unique_ptr<Model> vit = openModel(kModels + "timm-vit-tiny");
    EXPECT_FALSE(vit->accepts(InputKind::Text));
    EXPECT_NE(errorOf([&] { vit->runText(textInputFromIds({1}, vit->spec()), CaptureRequest{}); }).find("takes images, not text"),
              std::string::npos);
}

}  // namespace
