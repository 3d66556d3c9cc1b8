// The native ResNet against a plain nested-loop reference written here from He et al. (2016)
// and torchvision's documented semantics (no LibTorch: its own convolution, batch norm, ReLU,
// max pool, average pool and linear layer), on tiny random networks with random batch-norm
// statistics; plus the layouts agreeing, batch-norm folding, the feature tap's shapes and
// gradients, loader errors and the standard architectures' sizes. Fixtures computed by PyTorch
// (tests/data/resnet) are a second reference.
#include "core/io/json_file.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/model/random_model.h"
#include "core/model/registry.h"
#include "core/model/resnet.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>

namespace fs = std::filesystem;
using namespace fovea;

namespace {

// ---------------------------------------------------------------------------------------------
// The plain reference

struct Reference {
    std::map<std::string, std::vector<float>> tensors;
    std::map<std::string, std::vector<int64_t>> shapes;
    bool has(const std::string& name) const { return tensors.count(name) > 0; }
    const std::vector<float>& get(const std::string& name) const { return tensors.at(name); }
};

Reference loadReference(const std::string& path) {
    Reference ref;
    const SafetensorsFile file = SafetensorsFile::open(path);
    for (const TensorView& view : file.tensors()) {
        ref.tensors[view.name] = toFloatVector(view);
        ref.shapes[view.name] = view.shape;
    }
    return ref;
}

struct Map {  // [channels][rows][cols], float64
    int channels = 0, rows = 0, cols = 0;
    std::vector<double> v;
    Map(int c, int h, int w, double fill = 0.0) : channels(c), rows(h), cols(w), v(std::size_t(c) * h * w, fill) {}
    double& at(int c, int y, int x) { return v[(std::size_t(c) * rows + y) * cols + x]; }
    double at(int c, int y, int x) const { return v[(std::size_t(c) * rows + y) * cols + x]; }
};

// Zero-padded (k / 2), bias-free, grouped convolution.
Map convolve(const Map& in, const Reference& r, const std::string& name, int stride) {
    const std::vector<int64_t>& shape = r.shapes.at(name);
    const std::vector<float>& w = r.get(name);
    const int out = int(shape[0]), perGroup = int(shape[1]), k = int(shape[2]), pad = k / 2;
    const int groups = in.channels / perGroup, outPerGroup = out / groups;
    const int rows = (in.rows + 2 * pad - k) / stride + 1, cols = (in.cols + 2 * pad - k) / stride + 1;
    Map result(out, rows, cols);
    for (int o = 0; o < out; ++o) {
        const int group = o / outPerGroup;
        for (int y = 0; y < rows; ++y) {
            for (int x = 0; x < cols; ++x) {
                double sum = 0.0;
                for (int i = 0; i < perGroup; ++i) {
                    const int c = group * perGroup + i;
                    for (int dy = 0; dy < k; ++dy) {
                        const int sy = y * stride - pad + dy;
                        if (sy < 0 || sy >= in.rows) continue;
                        for (int dx = 0; dx < k; ++dx) {
                            const int sx = x * stride - pad + dx;
                            if (sx < 0 || sx >= in.cols) continue;
                            sum += double(w[((std::size_t(o) * perGroup + i) * k + dy) * k + dx]) * in.at(c, sy, sx);
                        }
                    }
                }
                result.at(o, y, x) = sum;
            }
        }
    }
    return result;
}

// Batch norm in eval mode: (x - running_mean) / sqrt(running_var + eps) * weight + bias.
void batchNorm(Map& x, const Reference& r, const std::string& prefix) {
    const auto &g = r.get(prefix + "weight"), &b = r.get(prefix + "bias");
    const auto &mean = r.get(prefix + "running_mean"), &var = r.get(prefix + "running_var");
    for (int c = 0; c < x.channels; ++c) {
        const double scale = g[std::size_t(c)] / std::sqrt(double(var[std::size_t(c)]) + 1e-5);
        for (int y = 0; y < x.rows; ++y)
            for (int i = 0; i < x.cols; ++i) x.at(c, y, i) = (x.at(c, y, i) - mean[std::size_t(c)]) * scale + b[std::size_t(c)];
    }
}

void relu(Map& x) {
    for (double& a : x.v) a = std::max(a, 0.0);
}

// 3x3 window, stride 2, padding 1 (padding never wins).
Map maxPool(const Map& in) {
    const int rows = (in.rows + 2 - 3) / 2 + 1, cols = (in.cols + 2 - 3) / 2 + 1;
    Map result(in.channels, rows, cols, -std::numeric_limits<double>::infinity());
    for (int c = 0; c < in.channels; ++c)
        for (int y = 0; y < rows; ++y)
            for (int x = 0; x < cols; ++x)
                for (int dy = -1; dy <= 1; ++dy)
                    for (int dx = -1; dx <= 1; ++dx) {
                        const int sy = 2 * y + dy, sx = 2 * x + dx;
                        if (sy >= 0 && sy < in.rows && sx >= 0 && sx < in.cols) {
                            result.at(c, y, x) = std::max(result.at(c, y, x), in.at(c, sy, sx));
                        }
                    }
    return result;
}

// torchvision names; the block type comes from the test's own variant, shortcuts from the names.
std::vector<double> referenceLogits(const Reference& r, bool bottleneck, const std::vector<int>& blocks,
                                    const std::vector<float>& image, int rows, int cols) {
    Map x(3, rows, cols);
    x.v.assign(image.begin(), image.end());
    x = convolve(x, r, "conv1.weight", 2);
    batchNorm(x, r, "bn1.");
    relu(x);
    x = maxPool(x);
    for (std::size_t s = 0; s < blocks.size(); ++s) {
        for (int b = 0; b < blocks[s]; ++b) {
            const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b) + ".";
            const int stride = (b == 0 && s > 0) ? 2 : 1;
            Map branch = convolve(x, r, p + "conv1.weight", bottleneck ? 1 : stride);
            batchNorm(branch, r, p + "bn1.");
            relu(branch);
            branch = convolve(branch, r, p + "conv2.weight", bottleneck ? stride : 1);
            batchNorm(branch, r, p + "bn2.");
            if (bottleneck) {
                relu(branch);
                branch = convolve(branch, r, p + "conv3.weight", 1);
                batchNorm(branch, r, p + "bn3.");
            }
            Map shortcut = x;
            if (r.has(p + "downsample.0.weight")) {
                shortcut = convolve(x, r, p + "downsample.0.weight", stride);
                batchNorm(shortcut, r, p + "downsample.1.");
            }
            for (std::size_t i = 0; i < branch.v.size(); ++i) branch.v[i] += shortcut.v[i];
            relu(branch);
            x = branch;
        }
    }
    std::vector<double> pooled(std::size_t(x.channels), 0.0);
    for (int c = 0; c < x.channels; ++c) {
        for (int y = 0; y < x.rows; ++y)
            for (int i = 0; i < x.cols; ++i) pooled[std::size_t(c)] += x.at(c, y, i);
        pooled[std::size_t(c)] /= double(x.rows * x.cols);
    }
    const std::vector<float>&w = r.get("fc.weight"), &bias = r.get("fc.bias");
    std::vector<double> logits(bias.size());
    for (std::size_t o = 0; o < bias.size(); ++o) {
        double sum = bias[o];
        for (std::size_t i = 0; i < pooled.size(); ++i) sum += double(w[o * pooled.size() + i]) * pooled[i];
        logits[o] = sum;
    }
    return logits;
}

// ---------------------------------------------------------------------------------------------
// Tiny networks

struct Variant {
    std::string name;
    std::string blockType;
    std::vector<int> blocks, widths;
    int stem = 4;
    int groups = 1, widthPerGroup = 64;
};

const Variant kBasic{"basic_1111", "basic", {1, 1, 1, 1}, {4, 8, 8, 8}, 4};
const Variant kBottleneck{"bottleneck_1211", "bottleneck", {1, 2, 1, 1}, {8, 16, 16, 16}, 4};
const Variant kGrouped{"grouped_1111", "bottleneck", {1, 1, 1, 1}, {16, 16, 32, 32}, 8, 2, 64};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

ModelSpec tinySpec(const Variant& v) {
    ModelSpec spec;
    spec.family = "resnet";
    spec.architecture = "tiny_" + v.name;
    spec.blockType = v.blockType;
    spec.stageBlocks = v.blocks;
    spec.stageWidths = v.widths;
    spec.stemWidth = v.stem;
    spec.groups = v.groups;
    spec.widthPerGroup = v.widthPerGroup;
    spec.numClasses = 5;
    return spec;
}

std::string writeTiny(const Variant& v, const std::string& layout, std::uint64_t seed = 5) {
    const std::string dir = ::testing::TempDir() + "fovea_resnet_" + v.name + "_" + layout;
    fs::remove_all(dir);
    writeRandomResnetCheckpoint(dir, tinySpec(v), seed, layout);
    return dir;
}

ImageInput randomInput(int rows, int cols, std::uint64_t seed = 3) {
    ImageInput input;
    input.height = rows;
    input.width = cols;
    at::manual_seed(seed);
    const at::Tensor pixels = at::randn({3, rows, cols});
    input.pixels.assign(pixels.data_ptr<float>(), pixels.data_ptr<float>() + pixels.numel());
    return input;
}

class TinyResnet : public ::testing::TestWithParam<Variant> {};

TEST_P(TinyResnet, MatchesThePlainReference) {
    const Variant& v = GetParam();
    const std::string dir = writeTiny(v, "torchvision");
    std::unique_ptr<Model> model = openModel(dir);
    const ModelSpec& spec = model->spec();
    EXPECT_EQ(spec.family, "resnet");
    EXPECT_EQ(spec.layout, "torchvision");
    EXPECT_EQ(spec.blockType, v.blockType);
    EXPECT_EQ(spec.stageBlocks, v.blocks);
    EXPECT_EQ(spec.stageWidths, v.widths);
    EXPECT_EQ(spec.stemWidth, v.stem);
    EXPECT_EQ(spec.groups, v.groups);
    EXPECT_EQ(spec.widthPerGroup, v.widthPerGroup);
    EXPECT_EQ(spec.embedDim, v.widths.back());
    EXPECT_EQ(spec.patchSize, 32);
    EXPECT_EQ(spec.depth, 0);
    EXPECT_EQ(spec.numHeads, 0);
    EXPECT_FALSE(spec.classToken);
    EXPECT_EQ(spec.numClasses, 5);
    EXPECT_TRUE(spec.isConvolutional());

    const int rows = 64, cols = 48;
    const ImageInput input = randomInput(rows, cols);
    const ModelOutputs out = model->run(input, CaptureRequest());
    const std::vector<double> expected =
        referenceLogits(loadReference(dir + "/model.safetensors"), v.blockType == "bottleneck", v.blocks, input.pixels, rows, cols);
    ASSERT_EQ(out.logits.size(), expected.size());
    double spread = 0.0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NEAR(out.logits[i], expected[i], 1e-4) << "logit " << i;
        spread = std::max(spread, std::fabs(expected[i] - expected[0]));
    }
    EXPECT_GT(spread, 1e-3) << "degenerate test network: all logits alike";
    EXPECT_TRUE(out.attention.empty());
    EXPECT_EQ(out.attention.modelLayers, 0);
    EXPECT_EQ(out.attention.tokens.size(), 0);
}

TEST_P(TinyResnet, OddSizesRunAndMatchTheReference) {
    const Variant& v = GetParam();
    const std::string dir = writeTiny(v, "torchvision");
    std::unique_ptr<Model> model = openModel(dir);
    const ImageInput input = randomInput(37, 51, 9);  // no multiple of anything
    CaptureRequest request;
    request.gradients = true;  // nothing to capture on a CNN: ignored
    const ModelOutputs out = model->run(input, request);
    const std::vector<double> expected =
        referenceLogits(loadReference(dir + "/model.safetensors"), v.blockType == "bottleneck", v.blocks, input.pixels, 37, 51);
    for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(out.logits[i], expected[i], 1e-4) << "logit " << i;
    EXPECT_THROW(model->run(randomInput(31, 64), CaptureRequest()), fovea::Error);
}

INSTANTIATE_TEST_SUITE_P(Torchvision, TinyResnet, ::testing::Values(kBasic, kBottleneck, kGrouped),
                         [](const auto& p) { return p.param.name; });

TEST(ResnetLayouts, HuggingFaceAndTimmLoadToTheSameLogits) {
    for (const Variant& v : {kBasic, kBottleneck}) {
        std::unique_ptr<Model> torchvision = openModel(writeTiny(v, "torchvision"));
        std::unique_ptr<Model> hf = openModel(writeTiny(v, "huggingface"));
        std::unique_ptr<Model> timm = openModel(writeTiny(v, "timm"));
        EXPECT_EQ(hf->spec().layout, "huggingface");
        EXPECT_EQ(hf->spec().architecture, "ResNetForImageClassification");
        EXPECT_EQ(hf->spec().stageBlocks, v.blocks);
        EXPECT_EQ(hf->spec().labels.at(2), "LABEL_2");
        EXPECT_EQ(hf->spec().preprocessing.interpolation, Interpolation::Bicubic);
        EXPECT_EQ(timm->spec().layout, "timm");
        EXPECT_EQ(timm->spec().architecture, "tiny_" + v.name);
        EXPECT_EQ(timm->spec().preprocessing.resizeShorter, 235);  // floor(224 / 0.95)
        EXPECT_EQ(torchvision->spec().preprocessing.resizeShorter, 256);
        EXPECT_EQ(torchvision->spec().preprocessing.height, 224);
        EXPECT_EQ(torchvision->spec().preprocessing.interpolation, Interpolation::Bilinear);

        const ImageInput input = randomInput(64, 48);
        const std::vector<float> expected = torchvision->run(input, CaptureRequest()).logits;
        const std::vector<float> fromHf = hf->run(input, CaptureRequest()).logits;
        const std::vector<float> fromTimm = timm->run(input, CaptureRequest()).logits;
        ASSERT_EQ(fromHf.size(), expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            EXPECT_NEAR(fromHf[i], expected[i], 1e-5) << v.name << " logit " << i;
            EXPECT_NEAR(fromTimm[i], expected[i], 1e-5) << v.name << " logit " << i;
        }
        DifferentiableModel* net = hf->differentiable();
        ASSERT_NE(net, nullptr);
        EXPECT_EQ(net->featureLayerName(4), "resnet.encoder.stages.3");
        EXPECT_EQ(net->featureLayerName(0), "resnet.embedder");
        EXPECT_EQ(torchvision->differentiable()->featureLayerName(4), "layer4");
        EXPECT_EQ(torchvision->differentiable()->featureLayerName(0), "maxpool");
    }
}

TEST(ResnetLayouts, LabelsComeFromTheConfig) {
    ModelSpec spec = tinySpec(kBasic);
    spec.labels = {"cat", "dog", "fox", "owl", "yak"};
    for (const std::string layout : {"torchvision", "timm", "huggingface"}) {
        const std::string dir = ::testing::TempDir() + "fovea_resnet_labels_" + layout;
        writeRandomResnetCheckpoint(dir, spec, 1, layout);
        const std::unique_ptr<Model> model = openModel(dir);
        EXPECT_EQ(model->spec().labels, spec.labels) << layout;
        EXPECT_EQ(model->spec().layout, layout);
    }
}

TEST(ResnetFolding, FoldedBatchNormEqualsBatchNorm) {
    ModelSpec spec = tinySpec(kBottleneck);
    spec.channels = 3;
    const ResnetWeights weights = initializeResnetWeights(spec, 17);
    ResnetModel folded(spec, weights, ResnetNaming("torchvision"), "cpu", true);
    ResnetModel unfolded(spec, weights, ResnetNaming("torchvision"), "cpu", false);
    EXPECT_EQ(folded.spec().parameterCount, unfolded.spec().parameterCount);
    torch::NoGradGuard noGrad;
    at::manual_seed(2);
    const at::Tensor pixels = at::randn({2, 3, 40, 56});
    const at::Tensor a = folded.forward(pixels), b = unfolded.forward(pixels);
    EXPECT_LT((a - b).abs().max().item<double>(), 1e-5) << a << b;

    // One convolution on its own, against conv + batch norm in float64.
    ConvBn conv = weights.stages[1][0].convs[1];
    const at::Tensor x = at::randn({1, conv.weight.size(1) * conv.groups, 9, 7}, at::kDouble);
    const at::Tensor reference = at::batch_norm(at::conv2d(x, conv.weight.to(at::kDouble), {}, {1, 1}, {1, 1}, {1, 1}, conv.groups),
                                                conv.bnWeight.to(at::kDouble), conv.bnBias.to(at::kDouble),
                                                conv.runningMean.to(at::kDouble), conv.runningVar.to(at::kDouble), false, 0.0, 1e-5, false);
    foldBatchNorm(conv, 1e-5);
    EXPECT_FALSE(conv.bnWeight.defined());
    const at::Tensor fused = at::conv2d(x, conv.weight.to(at::kDouble), conv.bias.to(at::kDouble), {1, 1}, {1, 1}, {1, 1}, conv.groups);
    EXPECT_LT((fused - reference).abs().max().item<double>(), 1e-5);
}

// ---------------------------------------------------------------------------------------------
// The feature tap

TEST(ResnetTap, EveryLayerHasItsShape) {
    std::unique_ptr<Model> model = openModel(writeTiny(kBasic, "torchvision"));
    DifferentiableModel* net = model->differentiable();
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->featureLayerCount(), 5);
    EXPECT_EQ(net->defaultFeatureLayer(), 4);
    EXPECT_EQ(net->featureLayerName(2), "layer2");
    EXPECT_THROW(net->featureLayerName(5), fovea::Error);
    // 64x48 -> conv 32x24 -> pool 16x12 -> 16x12, 8x6, 4x3, 2x2.
    const std::vector<std::vector<int64_t>> expected = {{1, 4, 16, 12}, {1, 4, 16, 12}, {1, 8, 8, 6}, {1, 8, 4, 3}, {1, 8, 2, 2}};
    at::manual_seed(4);
    const at::Tensor pixels = at::randn({1, 3, 64, 48});
    const at::Tensor plain = net->logits(pixels).detach();
    for (int layer = 0; layer < 5; ++layer) {
        FeatureTap tap;
        tap.layer = layer;
        const at::Tensor logits = net->logits(pixels, &tap);
        ASSERT_TRUE(tap.features.defined()) << layer;
        EXPECT_EQ(tap.features.sizes().vec(), expected[std::size_t(layer)]) << net->featureLayerName(layer);
        EXPECT_TRUE(at::allclose(logits.detach(), plain)) << "tapping changed the output";
    }
    FeatureTap missing;
    missing.layer = 5;
    EXPECT_THROW(net->logits(pixels, &missing), fovea::Error);
    FeatureTap reshaping;
    reshaping.layer = 4;
    reshaping.replace = [](const at::Tensor& grid) { return grid.narrow(1, 0, 2); };
    EXPECT_THROW(net->logits(pixels, &reshaping), fovea::Error);
}

// d(logit)/d(features) from autograd against central differences through tap->replace.
void expectGradientMatchesFiniteDifferences(DifferentiableModel* net, int layer, double tolerance) {
    at::manual_seed(8);
    const at::Tensor pixels = at::randn({1, 3, 64, 48});
    FeatureTap tap;
    tap.layer = layer;
    const at::Tensor logits = net->logits(pixels, &tap);
    const int target = 1;
    const at::Tensor grad = torch::autograd::grad({logits.select(1, target).sum()}, {tap.features})[0];
    ASSERT_EQ(grad.sizes(), tap.features.sizes());
    EXPECT_GT(grad.abs().max().item<double>(), 0.0);
    const double eps = 1e-2;
    const std::vector<std::vector<int64_t>> probes = {{0, 0, 0}, {1, 1, 1}, {3, 0, 1}, {2, 1, 0}};
    torch::NoGradGuard noGrad;
    for (const auto& probe : probes) {
        const int64_t c = probe[0] % tap.features.size(1), y = probe[1] % tap.features.size(2), x = probe[2] % tap.features.size(3);
        auto shifted = [&](double delta) {
            FeatureTap nudge;
            nudge.layer = layer;
            nudge.replace = [&](const at::Tensor& grid) {
                at::Tensor out = grid.clone();
                out[0][c][y][x] += delta;
                return out;
            };
            return net->logits(pixels, &nudge).select(1, target).item<double>();
        };
        const double numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
        const double analytic = grad[0][c][y][x].item<double>();
        EXPECT_NEAR(analytic, numeric, tolerance * std::max(1.0, std::fabs(numeric)))
            << net->featureLayerName(layer) << " element " << c << "," << y << "," << x;
    }
}

TEST(ResnetTap, GradientsMatchFiniteDifferences) {
    for (const Variant& v : {kBasic, kBottleneck}) {
        std::unique_ptr<Model> model = openModel(writeTiny(v, "torchvision"));
        expectGradientMatchesFiniteDifferences(model->differentiable(), 4, 1e-4);  // layer4: linear from here on
        expectGradientMatchesFiniteDifferences(model->differentiable(), 2, 2e-3);  // layer2: through ReLUs
    }
}

TEST(ResnetTap, PixelGradientsStillFlowThroughATappedLayer) {
    std::unique_ptr<Model> model = openModel(writeTiny(kBasic, "torchvision"));
    DifferentiableModel* net = model->differentiable();
    at::manual_seed(6);
    const at::Tensor pixels = at::randn({1, 3, 64, 48}).requires_grad_(true);
    FeatureTap tap;
    tap.layer = 4;
    const at::Tensor logits = net->logits(pixels, &tap);
    const auto grads = torch::autograd::grad({logits.select(1, 0).sum()}, {pixels, tap.features});
    EXPECT_EQ(grads[0].sizes(), pixels.sizes());
    EXPECT_GT(grads[0].abs().sum().item<double>(), 0.0);
    EXPECT_GT(grads[1].abs().sum().item<double>(), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Fixtures computed by PyTorch's own functional ops (tests/data/resnet/make_reference.py)

struct PytorchFixture {
    std::string folder, layout;
    int featureLayers;
};

void PrintTo(const PytorchFixture& f, std::ostream* os) { *os << f.folder; }

class ResnetPytorchFixture : public ::testing::TestWithParam<PytorchFixture> {};

TEST_P(ResnetPytorchFixture, LogitsAndEveryStageMatchPytorch) {
    const PytorchFixture& fixture = GetParam();
    const std::string dir = FOVEA_TEST_DATA_DIR "/resnet/" + fixture.folder;
    std::unique_ptr<Model> model = openModel(dir);
    EXPECT_EQ(model->spec().layout, fixture.layout);
    const ImageInput input = loadImageInput(dir + "/input_tensor.npy", model->spec());
    const ModelOutputs out = model->run(input, CaptureRequest());
    const std::vector<float> expected = readNpy(dir + "/expected_logits.npy").toFloats();
    ASSERT_EQ(out.logits.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(out.logits[i], expected[i], 1e-4) << "logit " << i;
    if (fixture.layout == "huggingface") {
        EXPECT_EQ(model->spec().labelOf(2), "cloud");
    }

    DifferentiableModel* net = model->differentiable();
    ASSERT_EQ(net->featureLayerCount(), fixture.featureLayers);
    const at::Tensor pixels = torch::from_blob(const_cast<float*>(input.pixels.data()), {1, 3, input.height, input.width}).clone();
    for (int layer = 0; layer < fixture.featureLayers; ++layer) {
        const NpyArray reference = readNpy(dir + "/expected_features_" + std::to_string(layer) + ".npy");
        FeatureTap tap;
        tap.layer = layer;
        torch::NoGradGuard noGrad;
        net->logits(pixels, &tap);
        ASSERT_EQ(tap.features.sizes().vec(), reference.shape) << net->featureLayerName(layer);
        const std::vector<float> values = reference.toFloats();
        const at::Tensor actual = tap.features.contiguous();
        float worst = 0.0f;
        for (std::size_t i = 0; i < values.size(); ++i) worst = std::max(worst, std::fabs(actual.data_ptr<float>()[i] - values[i]));
        EXPECT_LT(worst, 1e-4) << net->featureLayerName(layer);
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ResnetPytorchFixture,
                         ::testing::Values(PytorchFixture{"torchvision-basic", "torchvision", 5},
                                           PytorchFixture{"hf-bottleneck", "huggingface", 5},
                                           PytorchFixture{"hf-bottleneck-v1", "huggingface", 4}),
                         [](const auto& p) {
                             std::string name = p.param.folder;
                             for (char& c : name) c = c == '-' ? '_' : c;
                             return name;
                         });

// ---------------------------------------------------------------------------------------------
// Loader errors

std::vector<TensorData> readAll(const std::string& path) {
    const SafetensorsFile file = SafetensorsFile::open(path);
    std::vector<TensorData> out;
    for (const TensorView& view : file.tensors()) {
        TensorData data;
        data.name = view.name;
        data.dtype = view.dtype;
        data.shape = view.shape;
        data.bytes.assign(view.data, view.data + view.byteSize);
        out.push_back(std::move(data));
    }
    return out;
}

TensorData floats(const std::string& name, const std::vector<int64_t>& shape) {
    TensorData data;
    data.name = name;
    data.shape = shape;
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    data.bytes.assign(std::size_t(count) * 4, 0);
    return data;
}

// The one-line message openModel gives for the folder after `edit` changes its tensors.
std::string errorAfterEdit(const std::string& name, const std::function<void(std::vector<TensorData>&)>& edit,
                           const std::string& layout = "torchvision", const Variant& v = kBasic) {
    const std::string dir = ::testing::TempDir() + "fovea_resnet_broken_" + name;
    fs::remove_all(dir);
    writeRandomResnetCheckpoint(dir, tinySpec(v), 5, layout);
    const std::string weights = dir + "/model.safetensors";
    std::vector<TensorData> tensors = readAll(weights);
    edit(tensors);
    writeSafetensors(weights, tensors);
    try {
        openModel(dir);
    } catch (const fovea::Error& error) {
        const std::string message = error.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        EXPECT_NE(message.find(weights), std::string::npos) << message;
        return message;
    }
    ADD_FAILURE() << name << ": expected an error";
    return {};
}

void removeTensor(std::vector<TensorData>& tensors, const std::string& name) {
    const auto before = tensors.size();
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [&](const TensorData& t) { return t.name == name; }), tensors.end());
    ASSERT_EQ(tensors.size() + 1, before) << name;
}

void replaceTensor(std::vector<TensorData>& tensors, TensorData replacement) {
    for (TensorData& t : tensors) {
        if (t.name == replacement.name) {
            t = std::move(replacement);
            return;
        }
    }
    FAIL() << "no tensor " << replacement.name;
}

TEST(ResnetErrors, BrokenCheckpointsNameTheFileAndTensor) {
    std::string message = errorAfterEdit("missing", [](auto& t) { removeTensor(t, "layer2.0.bn1.running_var"); });
    EXPECT_NE(message.find("missing tensor 'layer2.0.bn1.running_var'"), std::string::npos) << message;

    message = errorAfterEdit("shape", [](auto& t) { replaceTensor(t, floats("layer3.0.conv2.weight", {8, 8, 3, 1})); });
    EXPECT_NE(message.find("tensor 'layer3.0.conv2.weight' has shape [8,8,3,1], expected [8,8,3,3]"), std::string::npos) << message;

    message = errorAfterEdit("fc", [](auto& t) { replaceTensor(t, floats("fc.weight", {5, 7})); });
    EXPECT_NE(message.find("tensor 'fc.weight' has shape [5,7], expected [5,8]"), std::string::npos) << message;

    message = errorAfterEdit("norm", [](auto& t) { replaceTensor(t, floats("bn1.weight", {3})); });
    EXPECT_NE(message.find("tensor 'bn1.weight' has shape [3], expected [4]"), std::string::npos) << message;

    message = errorAfterEdit("shortcut", [](auto& t) { removeTensor(t, "layer2.0.downsample.0.weight"); });
    EXPECT_NE(message.find("missing tensor 'layer2.0.downsample.0.weight'"), std::string::npos) << message;
    EXPECT_NE(message.find("projection shortcut"), std::string::npos) << message;

    message = errorAfterEdit("extra", [](auto& t) { t.push_back(floats("layer1.0.se.fc1.weight", {2, 4})); });
    EXPECT_NE(message.find("unexpected tensor 'layer1.0.se.fc1.weight'"), std::string::npos) << message;

    message = errorAfterEdit("mixed", [](auto& t) { t.push_back(floats("layer2.0.conv3.weight", {8, 8, 1, 1})); });
    EXPECT_NE(message.find("'layer2.0.conv3.weight'"), std::string::npos) << message;

    message = errorAfterEdit("deep_stem", [](auto& t) {
        removeTensor(t, "conv1.weight");
        t.push_back(floats("conv1.0.weight", {4, 3, 3, 3}));
    });
    EXPECT_NE(message.find("deep-stem"), std::string::npos) << message;

    message = errorAfterEdit("hf_missing", [](auto& t) { removeTensor(t, "resnet.encoder.stages.1.layers.0.layer.0.normalization.bias"); },
                             "huggingface");
    EXPECT_NE(message.find("missing tensor 'resnet.encoder.stages.1.layers.0.layer.0.normalization.bias'"), std::string::npos) << message;
}

TEST(ResnetErrors, ConfigThatContradictsTheTensorsIsAnError) {
    const std::string dir = writeTiny(kBottleneck, "huggingface");
    nlohmann::json config = readJsonFile(dir + "/config.json");
    config["depths"] = {1, 1, 1, 1};
    writeJsonFile(dir + "/config.json", config);
    try {
        openModel(dir);
        FAIL() << "expected an error";
    } catch (const fovea::Error& error) {
        EXPECT_NE(std::string(error.what()).find("depths [1,2,1,1] but config.json says [1,1,1,1]"), std::string::npos) << error.what();
    }
}

TEST(ResnetErrors, TruncatedFileIsAOneLineError) {
    const std::string dir = writeTiny(kBasic, "torchvision");
    const std::string weights = dir + "/model.safetensors";
    fs::resize_file(weights, fs::file_size(weights) - 100);
    try {
        openModel(dir);
        FAIL() << "expected an error";
    } catch (const fovea::Error& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find(weights), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

// ---------------------------------------------------------------------------------------------
// Standard architectures

TEST(ResnetStandard, TorchvisionArchitecturesHaveTheirParameterCounts) {
    // The counts torchvision reports for its ImageNet models (1,000 classes).
    const std::vector<std::pair<std::string, int64_t>> known = {{"resnet18", 11689512}, {"resnet50", 25557032}};
    for (const auto& [name, parameters] : known) {
        const std::string dir = ::testing::TempDir() + "fovea_resnet_" + name;
        writeRandomResnetCheckpoint(dir, name, 1, 1000);
        std::unique_ptr<Model> model = openModel(dir);
        const ModelSpec& spec = model->spec();
        EXPECT_EQ(spec.parameterCount, parameters) << name;
        EXPECT_EQ(spec.architecture, name);
        EXPECT_EQ(spec.weightLayers(), name == "resnet18" ? 18 : 50);
        EXPECT_EQ(spec.gridRows(), 7);
        EXPECT_EQ(spec.embedDim, name == "resnet18" ? 512 : 2048);
        const std::string text = spec.describe();
        EXPECT_NE(text.find(name == "resnet18" ? "basic blocks [2, 2, 2, 2]" : "bottleneck blocks [3, 4, 6, 3]"), std::string::npos) << text;
        const nlohmann::json json = spec.toJson();
        EXPECT_EQ(json["stage_blocks"], name == "resnet18" ? nlohmann::json({2, 2, 2, 2}) : nlohmann::json({3, 4, 6, 3}));
        EXPECT_EQ(json["heads"], 0);
        const ModelOutputs out = model->run(randomInput(224, 224), CaptureRequest());
        ASSERT_EQ(out.logits.size(), 1000u);
        for (float logit : out.logits) ASSERT_TRUE(std::isfinite(logit)) << name;
        fs::remove_all(dir);
    }
    EXPECT_FALSE(specFromResnetName("resnet19").has_value());
    EXPECT_EQ(specFromResnetName("resnext50_32x4d.fb_ssl")->groups, 32);
}

TEST(ResnetStandard, NpyInputsNeedNoMultipleOfTheStride) {
    const std::string dir = writeTiny(kBasic, "torchvision");
    std::unique_ptr<Model> model = openModel(dir);
    const std::vector<float> values(std::size_t(3) * 45 * 70, 0.25f);
    writeNpy(dir + "/input.npy", NpyArray::fromFloats({1, 3, 45, 70}, values));
    const ImageInput input = loadImageInput(dir + "/input.npy", model->spec());
    EXPECT_EQ(input.height, 45);
    EXPECT_EQ(model->run(input, CaptureRequest()).logits.size(), 5u);
    writeNpy(dir + "/small.npy", NpyArray::fromFloats({1, 3, 16, 70}, std::vector<float>(std::size_t(3) * 16 * 70, 0.0f)));
    EXPECT_THROW(loadImageInput(dir + "/small.npy", model->spec()), fovea::Error);
}

}  // namespace
