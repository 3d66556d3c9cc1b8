// The native BERT against the hf-bert-tiny fixture (a plain implementation of BERT's documented
// semantics cross-checked against PyTorch's TransformerEncoderLayer; tests/data/models/README.md),
// and the masking semantics against a plain-loop reference of layer 0 written here from the
// paper and the published config: embeddings = LayerNorm(word + position + token type), then
// softmax(q kᵀ / √d) with padding keys masked, every query row (padding too) computed.
#include "core/io/safetensors.h"
#include "core/model/registry.h"
#include "core/util/error.h"
#include "text_test_util.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace fovea;
using namespace fovea::testing_text;

namespace {

const std::string kBert = kModels + "hf-bert-tiny";

TextInput fixtureInput(const ModelSpec& spec) {
    TextInput input = loadTokenIds(kBert + "/input_ids.npy", spec);
    input.tokenTypes = readNpy(kBert + "/token_type_ids.npy").toInt64s();
    input.attentionMask = readNpy(kBert + "/attention_mask.npy").toInt64s();
    return input;
}

TEST(Bert, SpecComesFromConfigAndTensors) {
    const std::unique_ptr<Model> model = openModel(kBert);
    const ModelSpec& spec = model->spec();
    EXPECT_EQ(spec.family, "bert");
    EXPECT_EQ(spec.task, "sequence-classification");
    EXPECT_EQ(spec.numClasses, 3);
    EXPECT_EQ(spec.labelOf(2), "label_2");
    EXPECT_EQ(spec.depth, 2);
    EXPECT_EQ(spec.numHeads, 2);
    EXPECT_EQ(spec.vocabSize, 60);
    EXPECT_EQ(spec.contextLength, 24);
    EXPECT_EQ(spec.typeVocabSize, 2);
    EXPECT_FALSE(spec.causal);
    EXPECT_NE(spec.describe().find("bidirectional"), std::string::npos);
}

TEST(Bert, LogitsHiddenStateAndAttentionMatchTheReference) {
    const std::unique_ptr<Model> model = openModel(kBert);
    const TextInput input = fixtureInput(model->spec());
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->runText(input, request);
    const float logitError = maxAbsDifference(out.logits, readNpy(kBert + "/expected_logits.npy").toFloats());
    reportError("hf-bert-tiny logits [1,3]", logitError);
    EXPECT_LT(logitError, 1e-4f);
    EXPECT_EQ(out.hiddenWidth, 32);
    const float hiddenError = maxAbsDifference(out.lastHiddenState, readNpy(kBert + "/expected_last_hidden_state.npy").toFloats());
    reportError("hf-bert-tiny last_hidden_state [1,11,32]", hiddenError);
    EXPECT_LT(hiddenError, 1e-4f);
    const float attentionErr = attentionError(out.attention, kBert + "/expected_attention.npy");
    reportError("hf-bert-tiny attention [2,2,11,11]", attentionErr);
    EXPECT_LT(attentionErr, 1e-4f);

    // Padding keys (positions 8..10) are masked and marked so; padded query rows still sum to 1.
    EXPECT_FALSE(out.attention.causal);
    ASSERT_EQ(out.attention.keyMask.size(), 11u);
    for (const AttentionLayer& layer : out.attention.layers) {
        for (int q = 0; q < 11; ++q) {
            double sum = 0.0;
            for (int k = 0; k < 11; ++k) {
                sum += layer.value(0, q, k);
                EXPECT_EQ(out.attention.isMasked(q, k), k >= 8);
                if (k >= 8) {
                    EXPECT_EQ(layer.value(0, q, k), 0.0f);
                }
            }
            EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << q;
        }
    }
}

// Layer 0's attention, computed with plain loops from the stored weights.
std::vector<double> plainLayerZeroAttention(const TextInput& input) {
    const SafetensorsFile weights = SafetensorsFile::open(kBert + "/model.safetensors");
    auto tensor = [&](const std::string& name) { return toFloatVector(weights.at(name)); };
    const int n = input.size(), d = 32, heads = 2, hd = 16;
    const std::vector<float> word = tensor("bert.embeddings.word_embeddings.weight");
    const std::vector<float> position = tensor("bert.embeddings.position_embeddings.weight");
    const std::vector<float> type = tensor("bert.embeddings.token_type_embeddings.weight");
    const std::vector<float> gamma = tensor("bert.embeddings.LayerNorm.weight");
    const std::vector<float> beta = tensor("bert.embeddings.LayerNorm.bias");
    std::vector<double> x(std::size_t(n) * d);
    for (int t = 0; t < n; ++t) {
        double mean = 0.0, variance = 0.0;
        std::vector<double> e(d);
        for (int c = 0; c < d; ++c) {
            e[c] = double(word[std::size_t(input.ids[t] * d + c)]) + position[std::size_t(t * d + c)] +
                   type[std::size_t(input.tokenTypes[t] * d + c)];
            mean += e[c] / d;
        }
        for (int c = 0; c < d; ++c) variance += (e[c] - mean) * (e[c] - mean) / d;
        for (int c = 0; c < d; ++c) x[std::size_t(t * d + c)] = (e[c] - mean) / std::sqrt(variance + 1e-12) * gamma[c] + beta[c];
    }
    auto project = [&](const std::string& name) {
        const std::vector<float> w = tensor("bert.encoder.layer.0.attention.self." + name + ".weight");
        const std::vector<float> b = tensor("bert.encoder.layer.0.attention.self." + name + ".bias");
        std::vector<double> y(std::size_t(n) * d);
        for (int t = 0; t < n; ++t) {
            for (int o = 0; o < d; ++o) {
                double sum = b[o];
                for (int c = 0; c < d; ++c) sum += double(w[std::size_t(o * d + c)]) * x[std::size_t(t * d + c)];
                y[std::size_t(t * d + o)] = sum;
            }
        }
        return y;
    };
    const std::vector<double> q = project("query"), k = project("key");
    std::vector<double> attention(std::size_t(heads) * n * n);
    for (int h = 0; h < heads; ++h) {
        for (int i = 0; i < n; ++i) {
            std::vector<double> scores(n);
            double top = -1e300;
            for (int j = 0; j < n; ++j) {
                double dot = 0.0;
                for (int c = 0; c < hd; ++c) dot += q[std::size_t(i * d + h * hd + c)] * k[std::size_t(j * d + h * hd + c)];
                scores[j] = input.attentionMask[j] ? dot / std::sqrt(double(hd)) : -1e300;
                top = std::max(top, scores[j]);
            }
            double sum = 0.0;
            for (int j = 0; j < n; ++j) sum += (scores[j] = input.attentionMask[j] ? std::exp(scores[j] - top) : 0.0);
            for (int j = 0; j < n; ++j) attention[std::size_t((h * n + i) * n + j)] = scores[j] / sum;
        }
    }
    return attention;
}

TEST(Bert, LayerZeroMaskingMatchesAPlainLoopReference) {
    const std::unique_ptr<Model> model = openModel(kBert);
    const TextInput input = fixtureInput(model->spec());
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    request.layers = {0};
    const ModelOutputs out = model->runText(input, request);
    const std::vector<double> reference = plainLayerZeroAttention(input);
    const std::vector<float> captured = out.attention.layer(0).allValues();
    ASSERT_EQ(captured.size(), reference.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < reference.size(); ++i) worst = std::max(worst, std::fabs(captured[i] - reference[i]));
    reportError("hf-bert-tiny layer 0 vs plain loops", float(worst));
    EXPECT_LT(worst, 1e-5);
}

TEST(Bert, PaddingChangesNothingForRealTokens) {
    // The same sentence without its three padding positions gives the same logits: masked keys
    // contribute nothing (a model that only zeroed the display would fail this).
    const std::unique_ptr<Model> model = openModel(kBert);
    TextInput padded = fixtureInput(model->spec());
    TextInput trimmed = padded;
    trimmed.ids.resize(8);
    trimmed.tokenTypes.resize(8);
    trimmed.attentionMask.clear();
    trimmed.tokens = TokenLayout();
    const ModelOutputs a = model->runText(padded, CaptureRequest::nothing());
    const ModelOutputs b = model->runText(trimmed, CaptureRequest::nothing());
    EXPECT_LT(maxAbsDifference(a.logits, b.logits), 1e-5f);
    EXPECT_LT(maxAbsDifference(std::vector<float>(a.lastHiddenState.begin(), a.lastHiddenState.begin() + 8 * 32), b.lastHiddenState), 1e-5f);
}

TEST(Bert, BadTokenTypesAndMasks) {
    const std::unique_ptr<Model> model = openModel(kBert);
    TextInput input = fixtureInput(model->spec());
    input.tokenTypes[2] = 2;
    try {
        model->runText(input, CaptureRequest{});
        FAIL() << "token type 2 accepted";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("token type 2 at position 2 is outside 0..1"), std::string::npos) << error.what();
    }
    input = fixtureInput(model->spec());
    std::fill(input.attentionMask.begin(), input.attentionMask.end(), 0);
    EXPECT_THROW(model->runText(input, CaptureRequest{}), Error);
}

}  // namespace
