// The native ViT against the reference fixtures (outputs computed by timm's own
// VisionTransformer, see tests/data/models/README.md): logits and attention to 1e-4 absolute,
// through the real pipeline, for both the timm and the Hugging Face layouts, from the
// normalised tensor and from the PNG.
#include "core/explain/attention_maps.h"
#include "core/io/npy.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace fovea;

namespace {

const std::string kData = FOVEA_TEST_DATA_DIR "/models/";

float maxAbsDifference(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    float worst = 0.0f;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
}

struct FixtureCase {
    std::string folder;
    std::string input;
};

class VitFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(VitFixture, LogitsAttentionAndRolloutMatchReference) {
    const FixtureCase& fixture = GetParam();
    const std::string dir = kData + fixture.folder;
    std::unique_ptr<Model> model = openModel(dir);
    const ModelSpec& spec = model->spec();
    EXPECT_EQ(spec.depth, 3);
    EXPECT_EQ(spec.numHeads, 3);
    EXPECT_EQ(spec.embedDim, 48);
    EXPECT_EQ(spec.tokenCount(), 17);

    const ImageInput input = loadImageInput(dir + "/" + fixture.input, spec);
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->run(input, request);

    const std::vector<float> expectedLogits = readNpy(dir + "/expected_logits.npy").toFloats();
    EXPECT_LT(maxAbsDifference(out.logits, expectedLogits), 1e-4f);

    const NpyArray expectedAttention = readNpy(dir + "/expected_attention.npy");
    ASSERT_EQ(expectedAttention.shape, (std::vector<std::int64_t>{3, 3, 17, 17}));
    const std::vector<float> expected = expectedAttention.toFloats();
    ASSERT_EQ(out.attention.layers.size(), 3u);
    const std::size_t perLayer = 3 * 17 * 17;
    for (int layer = 0; layer < 3; ++layer) {
        const std::vector<float> reference(expected.begin() + std::ptrdiff_t(perLayer * layer),
                                           expected.begin() + std::ptrdiff_t(perLayer * (layer + 1)));
        EXPECT_LT(maxAbsDifference(out.attention.layer(layer).allValues(), reference), 1e-4f) << "layer " << layer;
    }

    const std::vector<float> rollout = rolloutMatrix(out.attention, HeadSelection{}, 0.0f);
    EXPECT_LT(maxAbsDifference(rollout, readNpy(dir + "/expected_rollout.npy").toFloats()), 1e-4f);
}

INSTANTIATE_TEST_SUITE_P(Layouts, VitFixture,
                         ::testing::Values(FixtureCase{"timm-vit-tiny", "input_tensor.npy"},
                                           FixtureCase{"timm-vit-tiny", "input.png"},
                                           FixtureCase{"hf-vit-tiny", "input_tensor.npy"},
                                           FixtureCase{"hf-vit-tiny", "input.png"}),
                         [](const auto& testCase) {
                             std::string name = testCase.param.folder + "_" + testCase.param.input;
                             for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             return name;
                         });

TEST(VitFixture, LoadsFromTheSafetensorsFileToo) {
    std::unique_ptr<Model> model = openModel(kData + "timm-vit-tiny/model.safetensors");
    EXPECT_EQ(model->spec().layout, "timm");
    EXPECT_EQ(model->spec().numClasses, 5);
}

TEST(VitFixture, Float16CaptureIsCloseToFloat32AndHalfTheSize) {
    std::unique_ptr<Model> model = openModel(kData + "timm-vit-tiny");
    const ImageInput input = loadImageInput(kData + "timm-vit-tiny/input_tensor.npy", model->spec());
    CaptureRequest full;
    full.precision = AttentionPrecision::Float32;
    const ModelOutputs exact = model->run(input, full);
    const ModelOutputs half = model->run(input, CaptureRequest());
    EXPECT_EQ(half.attention.storedBytes() * 2, exact.attention.storedBytes());
    for (int layer = 0; layer < 3; ++layer) {
        // float16 keeps 11 significant bits: values in [0, 1] are within 2^-11 relatively.
        EXPECT_LT(maxAbsDifference(half.attention.layer(layer).allValues(), exact.attention.layer(layer).allValues()), 5e-4f);
    }
}

TEST(VitFixture, CapturesOnlyWhatIsAsked) {
    std::unique_ptr<Model> model = openModel(kData + "hf-vit-tiny");
    const ImageInput input = loadImageInput(kData + "hf-vit-tiny/input_tensor.npy", model->spec());
    CaptureRequest request;
    request.layers = {1};
    request.heads = {2};
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->run(input, request);
    ASSERT_EQ(out.attention.layers.size(), 1u);
    EXPECT_EQ(out.attention.layers[0].layer, 1);
    EXPECT_EQ(out.attention.layers[0].heads, std::vector<int>{2});
    EXPECT_EQ(out.attention.findLayer(0), nullptr);
    const std::vector<float> expected = readNpy(kData + "hf-vit-tiny/expected_attention.npy").toFloats();
    const std::size_t offset = (std::size_t(1) * 3 + 2) * 17 * 17;
    const std::vector<float> reference(expected.begin() + std::ptrdiff_t(offset), expected.begin() + std::ptrdiff_t(offset + 17 * 17));
    EXPECT_LT(maxAbsDifference(out.attention.layers[0].matrix(0), reference), 1e-4f);

    CaptureRequest bad;
    bad.layers = {3};
    EXPECT_THROW(model->run(input, bad), Error);
}

// A batch is one forward pass over every image: each item must still match the reference
// fixture (the first and third are the fixture's input) and equal a run of its own (the second,
// a different image, checks that items are not mixed up).
TEST(VitFixture, BatchOfImagesMatchesTheReferenceItemByItem) {
    for (const std::string folder : {"timm-vit-tiny", "hf-vit-tiny"}) {
        const std::string dir = kData + folder;
        std::unique_ptr<Model> model = openModel(dir);
        const ImageInput input = loadImageInput(dir + "/input_tensor.npy", model->spec());
        ImageInput other = input;
        for (std::size_t i = 0; i < other.pixels.size(); ++i) other.pixels[i] = std::sin(0.37f * float(i));
        CaptureRequest request;
        request.precision = AttentionPrecision::Float32;
        request.heads = {0, 2};  // a subset
        const std::vector<ModelOutputs> batch = model->runBatch({input, other, input}, request);
        ASSERT_EQ(batch.size(), 3u);
        const std::vector<float> expectedLogits = readNpy(dir + "/expected_logits.npy").toFloats();
        const std::vector<float> expected = readNpy(dir + "/expected_attention.npy").toFloats();
        const ModelOutputs single = model->run(other, request);
        for (int item : {0, 2}) {
            const ModelOutputs& out = batch[std::size_t(item)];
            EXPECT_LT(maxAbsDifference(out.logits, expectedLogits), 1e-4f) << folder << " item " << item;
            ASSERT_EQ(out.attention.layers.size(), 3u);
            for (int layer = 0; layer < 3; ++layer) {
                ASSERT_EQ(out.attention.layers[std::size_t(layer)].heads, (std::vector<int>{0, 2}));
                for (int slot = 0; slot < 2; ++slot) {
                    const int head = slot * 2;
                    const std::size_t offset = (std::size_t(layer) * 3 + std::size_t(head)) * 17 * 17;
                    const std::vector<float> reference(expected.begin() + std::ptrdiff_t(offset),
                                                       expected.begin() + std::ptrdiff_t(offset + 17 * 17));
                    EXPECT_LT(maxAbsDifference(out.attention.layers[std::size_t(layer)].matrix(slot), reference), 1e-4f)
                        << folder << " item " << item << " layer " << layer << " head " << head;
                }
            }
        }
        EXPECT_LT(maxAbsDifference(batch[1].logits, single.logits), 1e-5f) << folder;
        EXPECT_GT(maxAbsDifference(batch[1].logits, expectedLogits), 1e-3f) << folder << ": the second image differs";
        for (int layer = 0; layer < 3; ++layer)
            EXPECT_LT(maxAbsDifference(batch[1].attention.layers[std::size_t(layer)].allValues(),
                                       single.attention.layers[std::size_t(layer)].allValues()),
                      1e-5f)
                << folder << " layer " << layer;
    }
}

// Images of different sizes cannot share a pass: they run one at a time, with the same answers.
TEST(VitFixture, BatchOfMixedSizesRunsEachImageAlone) {
    std::unique_ptr<Model> model = openModel(kData + "timm-vit-tiny");
    const ImageInput input = loadImageInput(kData + "timm-vit-tiny/input_tensor.npy", model->spec());
    ImageInput wide;
    wide.height = input.height;
    wide.width = input.width * 2;
    wide.pixels.resize(std::size_t(3) * wide.height * wide.width);
    for (std::size_t i = 0; i < wide.pixels.size(); ++i) wide.pixels[i] = std::cos(0.11f * float(i));
    const std::vector<ModelOutputs> batch = model->runBatch({input, wide}, CaptureRequest());
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_LT(maxAbsDifference(batch[0].logits, readNpy(kData + "timm-vit-tiny/expected_logits.npy").toFloats()), 1e-4f);
    EXPECT_EQ(batch[1].attention.tokens.size(), model->tokenLayout(wide.height, wide.width).size());
    EXPECT_LT(maxAbsDifference(batch[1].logits, model->run(wide, CaptureRequest()).logits), 1e-5f);
}

// The budget counts every image of a batch, and the advice names the batch.
TEST(VitFixture, BatchOverTheMemoryBudgetIsRefusedWithAdvice) {
    std::unique_ptr<Model> model = openModel(kData + "timm-vit-tiny");
    const ImageInput input = loadImageInput(kData + "timm-vit-tiny/input_tensor.npy", model->spec());
    CaptureRequest request;
    request.memoryBudgetBytes = 8000;  // one image needs 5,202 bytes, two 10,404
    EXPECT_NO_THROW(model->run(input, request));
    try {
        model->runBatch({input, input}, request);
        FAIL() << "expected the batch to be refused";
    } catch (const Error& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("10.2 KiB"), std::string::npos) << message;
        EXPECT_NE(message.find("--batch"), std::string::npos) << message;
    }
}

TEST(VitFixture, RequestOverTheMemoryBudgetIsRefusedWithAdvice) {
    std::unique_ptr<Model> model = openModel(kData + "timm-vit-tiny");
    const ImageInput input = loadImageInput(kData + "timm-vit-tiny/input_tensor.npy", model->spec());
    CaptureRequest request;
    request.memoryBudgetBytes = 1000;  // 3 layers x 3 heads x 17^2 x 2 bytes = 5202 bytes
    try {
        model->run(input, request);
        FAIL() << "expected the capture to be refused";
    } catch (const Error& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("5.1 KiB"), std::string::npos) << message;
        EXPECT_NE(message.find("--layer"), std::string::npos) << message;
    }
    request.layers = {2};
    request.heads = {0};  // 578 bytes: fits
    EXPECT_NO_THROW(model->run(input, request));
}

TEST(VitFixture, AttentionGradientsFollowTheClassTokenPath) {
    // With token pooling, the logits read only the CLS row of the last layer's output, so the
    // gradient of a logit with respect to the last layer's attention is zero on every other
    // query row, and non-zero on the CLS row.
    std::unique_ptr<Model> model = openModel(kData + "timm-vit-tiny");
    const ImageInput input = loadImageInput(kData + "timm-vit-tiny/input_tensor.npy", model->spec());
    CaptureRequest request;
    request.gradients = true;
    request.gradientTarget = 2;
    request.precision = AttentionPrecision::Float32;
    const ModelOutputs out = model->run(input, request);
    ASSERT_TRUE(out.attention.hasGradients());
    const AttentionLayer& last = out.attention.layer(2);
    float clsRow = 0.0f, otherRows = 0.0f;
    for (int h = 0; h < 3; ++h) {
        for (int q = 0; q < 17; ++q) {
            for (int k = 0; k < 17; ++k) {
                const float g = std::fabs(last.gradient[(std::size_t(h) * 17 + q) * 17 + k]);
                (q == 0 ? clsRow : otherRows) += g;
            }
        }
    }
    EXPECT_GT(clsRow, 1e-6f);
    EXPECT_EQ(otherRows, 0.0f);
    // Earlier layers influence every token, so their gradients reach other rows.
    float earlier = 0.0f;
    for (std::size_t i = 17 * 17; i < out.attention.layer(0).gradient.size(); ++i) earlier += std::fabs(out.attention.layer(0).gradient[i]);
    EXPECT_GT(earlier, 1e-6f);
    // Logits with gradients on equal those without.
    const ModelOutputs plain = model->run(input, CaptureRequest::nothing());
    EXPECT_LT(maxAbsDifference(out.logits, plain.logits), 1e-6f);
    // A head subset keeps those heads' attention and gradients, the same slices as above.
    CaptureRequest some = request;
    some.heads = {1};
    const ModelOutputs one = model->run(input, some);
    for (int layer = 0; layer < 3; ++layer) {
        const AttentionLayer& all = out.attention.layer(layer);
        const AttentionLayer& picked = one.attention.layer(layer);
        ASSERT_EQ(picked.gradient.size(), std::size_t(17 * 17)) << "layer " << layer;
        const std::vector<float> gradient(all.gradient.begin() + 17 * 17, all.gradient.begin() + 2 * 17 * 17);
        EXPECT_LT(maxAbsDifference(picked.gradient, gradient), 1e-7f) << "layer " << layer;
        EXPECT_LT(maxAbsDifference(picked.matrix(0), all.matrix(1)), 1e-7f) << "layer " << layer;
    }
}

TEST(VitFixture, BadInputsGiveOneLineErrorsNamingTheFile) {
    std::unique_ptr<Model> model = openModel(kData + "timm-vit-tiny");
    auto expectError = [&](const std::string& path, const std::string& fragment) {
        try {
            loadImageInput(path, model->spec());
            ADD_FAILURE() << "no error for " << path;
        } catch (const Error& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find(path), std::string::npos) << message;
            EXPECT_NE(message.find(fragment), std::string::npos) << message;
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        }
    };
    expectError(kData + "timm-vit-tiny/no-such-image.png", "");
    // A tensor of the wrong shape: the logits file is float32 [1,5].
    expectError(kData + "timm-vit-tiny/expected_logits.npy", "shape");
    EXPECT_THROW(openModel(kData + "no-such-model"), Error);
    EXPECT_THROW(openModel(kData + "timm-vit-tiny/config.json"), Error);
}

}  // namespace
