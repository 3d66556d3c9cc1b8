// Head interventions (Model::setHeadScales) against an independent construction: scaling head h
// of layer l by s must give the same outputs as the unscaled model whose output projection has
// that head's input slice multiplied by s in a modified copy of the checkpoint (the projection
// is linear in the concatenated head outputs, so this is the same intervention done to the
// weights). Checked for every family with heads: ViT (timm and Hugging Face layouts), GPT-2
// (Conv1D, [in, out]), BERT, CLIP (vision and text towers, Hugging Face and OpenAI layouts).
#include "core/io/json_file.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/model/head_scales.h"
#include "core/model/random_model.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>

using namespace fovea;
namespace fs = std::filesystem;

namespace {

const std::string kModels = FOVEA_TEST_DATA_DIR "/models/";

float maxAbsDifference(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    if (a.size() != b.size()) return INFINITY;
    float worst = 0.0f;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
}

// A copy of fixture `name` where tensor `tensor` ([out, in] Linear, or [in, out] when
// `inputRows`) has the input slice [begin, begin + width) multiplied by `factor`.
std::string scaledCopy(const std::string& name, const std::string& tensor, bool inputRows,
                       std::int64_t begin, std::int64_t width, float factor,
                       const std::string& as) {
    const fs::path target = fs::temp_directory_path() / ("fovea_head_scales_" + as);
    fs::remove_all(target);
    fs::copy(kModels + name, target, fs::copy_options::recursive);
    for (const auto& entry : fs::recursive_directory_iterator(target)) {
        fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
    }
    std::vector<TensorData> tensors;
    std::map<std::string, std::string> metadata;
    {
        const SafetensorsFile file = SafetensorsFile::open((target / "model.safetensors").string());
        metadata = file.metadata();
        bool found = false;
        for (const TensorView& view : file.tensors()) {
            TensorData data{view.name, view.dtype, view.shape,
                            std::vector<std::uint8_t>(view.data, view.data + view.byteSize)};
            if (view.name == tensor) {
                found = true;
                EXPECT_EQ(view.dtype, DType::F32);
                std::vector<float> values = toFloatVector(view);
                const std::int64_t rows = view.shape[0], cols = view.shape[1];
                for (std::int64_t r = 0; r < rows; ++r) {
                    for (std::int64_t c = 0; c < cols; ++c) {
                        const std::int64_t input = inputRows ? r : c;
                        if (input >= begin && input < begin + width)
                            values[std::size_t(r * cols + c)] *= factor;
                    }
                }
                std::memcpy(data.bytes.data(), values.data(), data.bytes.size());
            }
            tensors.push_back(std::move(data));
        }
        EXPECT_TRUE(found) << tensor;
    }
    writeSafetensors((target / "model.safetensors").string(), tensors, metadata);
    return target.string();
}

struct VisionCase {
    std::string fixture;
    std::string projection;  // with {l} for the layer
};

std::string layerName(std::string pattern, int layer) {
    return pattern.replace(pattern.find("{l}"), 3, std::to_string(layer));
}

class VisionHeadScales : public ::testing::TestWithParam<VisionCase> {};

TEST_P(VisionHeadScales, ScalingAHeadEqualsScalingItsSliceOfTheOutputProjection) {
    const VisionCase& c = GetParam();
    const std::string dir = kModels + c.fixture;
    const std::unique_ptr<Model> model = openModel(dir);
    const ModelSpec& spec = model->spec();
    const int layers = spec.depth, heads = spec.numHeads, headDim = spec.embedDim / spec.numHeads;
    const ImageInput input = loadImageInput(dir + "/input_tensor.npy", spec);
    const ModelOutputs plain = model->run(input, CaptureRequest::nothing());

    // The identity leaves the outputs bit for bit as they were, and headScales() reports it.
    model->setHeadScales(HeadScales::identity(layers, heads));
    EXPECT_EQ(model->run(input, CaptureRequest::nothing()).logits, plain.logits);
    EXPECT_TRUE(model->headScales().isIdentity());
    EXPECT_EQ(model->headScales().layers(), layers);

    for (const auto& [layer, head, factor] :
         {std::tuple{0, 1, 0.0f}, std::tuple{layers - 1, heads - 1, 0.0f},
          std::tuple{layers - 1, 0, 2.5f}}) {
        HeadScales scales = HeadScales::identity(layers, heads);
        scales.set(layer, head, factor);
        model->setHeadScales(scales);
        EXPECT_EQ(model->headScales(), scales);
        const ModelOutputs scaled = model->run(input, CaptureRequest::nothing());
        const std::string copy = scaledCopy(
            c.fixture, layerName(c.projection, layer), false, std::int64_t(head) * headDim, headDim,
            factor, c.fixture + "_" + std::to_string(layer) + "_" + std::to_string(head));
        const ModelOutputs reference = openModel(copy)->run(input, CaptureRequest::nothing());
        EXPECT_LT(maxAbsDifference(scaled.logits, reference.logits), 2e-5f)
            << "layer " << layer << " head " << head;
        EXPECT_GT(maxAbsDifference(scaled.logits, plain.logits), 1e-4f)
            << "the intervention must change the output";
    }
    model->resetHeadScales();
    EXPECT_EQ(model->run(input, CaptureRequest::nothing()).logits, plain.logits);
    EXPECT_TRUE(model->headScales().isIdentity());
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, VisionHeadScales,
    ::testing::Values(
        VisionCase{"timm-vit-tiny", "blocks.{l}.attn.proj.weight"},
        VisionCase{"hf-vit-tiny", "vit.encoder.layer.{l}.attention.output.dense.weight"},
        VisionCase{"hf-clip-tiny", "vision_model.encoder.layers.{l}.self_attn.out_proj.weight"},
        VisionCase{"openai-clip-tiny", "visual.transformer.resblocks.{l}.attn.out_proj.weight"}));

struct TextCase {
    std::string fixture;
    std::string projection;
    bool inputRows;  // Conv1D: [in, out]
    bool textTower;  // CLIP: setTextHeadScales
};

class TextHeadScales : public ::testing::TestWithParam<TextCase> {};

TEST_P(TextHeadScales, ScalingAHeadEqualsScalingItsSliceOfTheOutputProjection) {
    const TextCase& c = GetParam();
    const std::string dir = kModels + c.fixture;
    const std::unique_ptr<Model> model = openModel(dir);
    const ModelSpec& spec = model->spec();
    const int layers = c.textTower ? spec.textDepth : spec.depth;
    const int heads = c.textTower ? spec.textHeads : spec.numHeads;
    const int headDim = (c.textTower ? spec.textEmbedDim : spec.embedDim) / heads;
    TextInput input = loadTokenIds(dir + "/input_ids.npy", spec);
    if (fs::exists(dir + "/token_type_ids.npy"))
        input.tokenTypes = readNpy(dir + "/token_type_ids.npy").toInt64s();
    if (fs::exists(dir + "/attention_mask.npy"))
        input.attentionMask = readNpy(dir + "/attention_mask.npy").toInt64s();
    auto outputs = [&](Model& m) {
        const ModelOutputs out = m.runText(input, CaptureRequest::nothing());
        return out.positionLogits.empty() ? out.logits : out.positionLogits;
    };
    auto set = [&](const HeadScales& scales) {
        c.textTower ? model->setTextHeadScales(scales) : model->setHeadScales(scales);
    };
    const std::vector<float> plain = outputs(*model);
    if (fs::exists(dir + "/expected_logits.npy")) {
        // Scale 1 reproduces the reference outputs.
        set(HeadScales::identity(layers, heads));
        EXPECT_LT(
            maxAbsDifference(outputs(*model), readNpy(dir + "/expected_logits.npy").toFloats()),
            1e-4f);
    }
    for (const auto& [layer, head, factor] :
         {std::tuple{0, 0, 0.0f}, std::tuple{layers - 1, heads - 1, 0.0f},
          std::tuple{0, heads - 1, -0.5f}}) {
        HeadScales scales = HeadScales::identity(layers, heads);
        scales.set(layer, head, factor);
        set(scales);
        EXPECT_EQ(c.textTower ? model->textHeadScales() : model->headScales(), scales);
        const std::vector<float> scaled = outputs(*model);
        const std::string copy =
            scaledCopy(c.fixture, layerName(c.projection, layer), c.inputRows,
                       std::int64_t(head) * headDim, headDim, factor,
                       c.fixture + "_text_" + std::to_string(layer) + "_" + std::to_string(head));
        const std::vector<float> reference = outputs(*openModel(copy));
        EXPECT_LT(maxAbsDifference(scaled, reference), 2e-5f)
            << "layer " << layer << " head " << head;
        EXPECT_GT(maxAbsDifference(scaled, plain), 1e-5f)
            << "the intervention must change the output";
    }
    model->resetHeadScales();
    EXPECT_EQ(outputs(*model), plain);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, TextHeadScales,
    ::testing::Values(TextCase{"hf-gpt2-tiny", "transformer.h.{l}.attn.c_proj.weight", true, false},
                      TextCase{"hf-bert-tiny",
                               "bert.encoder.layer.{l}.attention.output.dense.weight", false,
                               false},
                      TextCase{"hf-clip-tiny",
                               "text_model.encoder.layers.{l}.self_attn.out_proj.weight", false,
                               true},
                      TextCase{"openai-clip-tiny", "transformer.resblocks.{l}.attn.out_proj.weight",
                               false, true}));

TEST(HeadScales, JsonRoundTripAndErrors) {
    HeadScales scales = HeadScales::identity(2, 3);
    EXPECT_TRUE(scales.isIdentity());
    scales.set(1, 2, 0.0f);
    scales.set(0, 0, 0.25f);
    EXPECT_FALSE(scales.isIdentity());
    EXPECT_EQ(scales.changedHeads(), (std::vector<std::pair<int, int>>{{0, 0}, {1, 2}}));
    const nlohmann::json saved = scales.toJson();
    EXPECT_EQ(saved["scales"][1][2], 0.0);
    EXPECT_EQ(HeadScales::fromJson(saved), scales);
    EXPECT_EQ(HeadScales::fromJson(HeadScales{}.toJson()), HeadScales{});
    EXPECT_TRUE(HeadScales::fromJson(HeadScales{}.toJson()).empty());

    EXPECT_THROW(scales.set(2, 0, 1.0f), Error);
    EXPECT_THROW(scales.set(0, 0, NAN), Error);
    EXPECT_THROW((void)HeadScales::identity(0, 3), Error);
    auto message = [](const nlohmann::json& value) {
        try {
            (void)HeadScales::fromJson(value, "session.fovea");
        } catch (const Error& error) {
            return std::string(error.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message(nlohmann::json::parse(R"({"scales": [[1, 1], [1]]})")),
              "session.fovea: 'scales' row 1 does not have 2 factors");
    EXPECT_EQ(message(nlohmann::json::parse(R"({"scales": [[1, "a"]]})")),
              "session.fovea: factor for layer 0, head 1 is not a finite number");
    EXPECT_EQ(message(nlohmann::json::parse(R"({"layers": 3, "scales": [[1, 0]]})")),
              "session.fovea: 'layers' does not match the 'scales' array (1)");
    EXPECT_NE(message(nlohmann::json::parse("[1, 2]")).find("expected an object"),
              std::string::npos);
}

TEST(HeadScales, WrongShapesAndModelsWithoutHeadsAreClearErrors) {
    const std::unique_ptr<Model> vit = openModel(kModels + "timm-vit-tiny");
    try {
        vit->setHeadScales(HeadScales::identity(2, 3));
        FAIL() << "expected an error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what())
                      .find("head scales are 2 layers x 3 heads, the model has 3 x 3"),
                  std::string::npos)
            << error.what();
    }
    EXPECT_THROW(vit->setTextHeadScales(HeadScales::identity(3, 3)), Error);  // no text tower

    const fs::path dir = fs::temp_directory_path() / "fovea_head_scales_resnet";
    fs::remove_all(dir);
    ModelSpec spec;
    spec.family = "resnet";
    spec.architecture = "resnet_tiny";
    spec.blockType = "basic";
    spec.stageBlocks = {1, 1};
    spec.stageWidths = {8, 16};
    spec.stemWidth = 8;
    spec.numClasses = 3;
    writeRandomResnetCheckpoint(dir.string(), spec, 1);
    const std::unique_ptr<Model> resnet = openModel(dir.string());
    EXPECT_TRUE(resnet->headScales().empty());
    resnet->resetHeadScales();  // a no-op, not an error
    try {
        resnet->setHeadScales(HeadScales::identity(1, 1));
        FAIL() << "expected an error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("has no attention heads to scale"),
                  std::string::npos)
            << error.what();
    }
}

}  // namespace
