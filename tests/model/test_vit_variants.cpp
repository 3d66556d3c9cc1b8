// ViT variants the fixtures do not cover (distillation token, registers, no_embed_class,
// LayerScale, average pooling with fc_norm, no qkv bias, position-embedding resampling),
// checked against a plain loop implementation written here from the papers and timm's
// documented semantics. The reference shares nothing with the production code but the
// safetensors reader: no LibTorch, its own LayerNorm, GELU, softmax and bicubic kernels.
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/registry.h"
#include "core/model/vit.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <map>

using namespace fovea;

namespace {

using Matrix = std::vector<std::vector<double>>;  // [tokens][features]

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

Matrix linear(const Matrix& x, const std::vector<float>& w, const std::vector<float>* b, int out) {
    const int in = int(x[0].size());
    Matrix y(x.size(), std::vector<double>(std::size_t(out)));
    for (std::size_t t = 0; t < x.size(); ++t) {
        for (int o = 0; o < out; ++o) {
            double sum = b ? (*b)[std::size_t(o)] : 0.0;
            for (int i = 0; i < in; ++i) sum += double(w[std::size_t(o) * in + i]) * x[t][std::size_t(i)];
            y[t][std::size_t(o)] = sum;
        }
    }
    return y;
}

std::vector<double> layerNorm(const std::vector<double>& v, const std::vector<float>& g, const std::vector<float>& b, double eps) {
    double mean = 0, var = 0;
    for (double a : v) mean += a;
    mean /= double(v.size());
    for (double a : v) var += (a - mean) * (a - mean);
    var /= double(v.size());
    std::vector<double> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = (v[i] - mean) / std::sqrt(var + eps) * g[i] + b[i];
    return out;
}

// Keys cubic kernel; a = -0.5 (PIL / antialiased path) or -0.75 (plain bicubic).
double cubic(double x, double a) {
    x = std::fabs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

// 1-D resampling weights: out[i] = sum_j weights[i][j] * in[j].
Matrix resampleWeights(int in, int out, bool antialiased) {
    Matrix weights(std::size_t(out), std::vector<double>(std::size_t(in), 0.0));
    const double scale = double(in) / out;
    for (int i = 0; i < out; ++i) {
        if (antialiased) {
            // PIL-style: a window of support 2*max(scale,1) clipped to the input, weights renormalised.
            const double support = 2.0 * std::max(scale, 1.0);
            const double centre = scale * (i + 0.5);
            const int lo = std::max(int(centre - support + 0.5), 0), hi = std::min(int(centre + support + 0.5), in);
            double total = 0;
            for (int j = lo; j < hi; ++j) total += cubic((j - centre + 0.5) / std::max(scale, 1.0), -0.5);
            for (int j = lo; j < hi; ++j) weights[std::size_t(i)][std::size_t(j)] += cubic((j - centre + 0.5) / std::max(scale, 1.0), -0.5) / total;
        } else {
            // Half-pixel centres, four taps, indices clamped at the border.
            const double source = scale * (i + 0.5) - 0.5;
            const int base = int(std::floor(source));
            const double t = source - base;
            for (int k = -1; k <= 2; ++k) {
                const int j = std::clamp(base + k, 0, in - 1);
                weights[std::size_t(i)][std::size_t(j)] += cubic(k - t, -0.75);
            }
        }
    }
    return weights;
}

struct Variant {
    std::string name;
    bool cls = true, dist = false;
    int registers = 0;
    bool noEmbedClass = false, layerScale = false, qkvBias = true;
    std::string pooling = "token";
    int inputSize = 16;  // training size is 16; other sizes resample the position embeddings
    std::string layout = "timm";
};

std::vector<double> referenceLogits(const Reference& r, const Variant& v, const std::vector<float>& image, int size) {
    const int d = 16, heads = 2, patch = 4, depth = 2, classes = 3, hidden = 32, trainGrid = 4;
    const int grid = size / patch;
    const double eps = 1e-6;
    Matrix patches(std::size_t(grid * grid), std::vector<double>(std::size_t(d)));
    const auto& pw = r.get("patch_embed.proj.weight");
    for (int gy = 0; gy < grid; ++gy)
        for (int gx = 0; gx < grid; ++gx)
            for (int o = 0; o < d; ++o) {
                double sum = r.get("patch_embed.proj.bias")[std::size_t(o)];
                for (int c = 0; c < 3; ++c)
                    for (int y = 0; y < patch; ++y)
                        for (int x = 0; x < patch; ++x)
                            sum += double(pw[((std::size_t(o) * 3 + c) * patch + y) * patch + x]) *
                                   image[(std::size_t(c) * size + gy * patch + y) * size + gx * patch + x];
                patches[std::size_t(gy * grid + gx)][std::size_t(o)] = sum;
            }
    const int prefix = (v.cls ? 1 : 0) + (v.dist ? 1 : 0) + v.registers;
    const int posPrefix = v.noEmbedClass ? 0 : prefix;
    const auto& pos = r.get("pos_embed");
    // Position embeddings of the patch grid, resampled separably when the grid differs.
    const Matrix wy = resampleWeights(trainGrid, grid, v.layout == "timm");
    Matrix patchPos(std::size_t(grid * grid), std::vector<double>(std::size_t(d), 0.0));
    for (int y = 0; y < grid; ++y)
        for (int x = 0; x < grid; ++x)
            for (int sy = 0; sy < trainGrid; ++sy)
                for (int sx = 0; sx < trainGrid; ++sx) {
                    const double w = wy[std::size_t(y)][std::size_t(sy)] * wy[std::size_t(x)][std::size_t(sx)];
                    if (w == 0) continue;
                    for (int o = 0; o < d; ++o)
                        patchPos[std::size_t(y * grid + x)][std::size_t(o)] += w * pos[std::size_t(posPrefix + sy * trainGrid + sx) * d + o];
                }
    Matrix x;
    auto token = [&](const std::string& name, int index) {
        const auto& t = r.get(name);
        return std::vector<double>(t.begin() + index * d, t.begin() + (index + 1) * d);
    };
    if (v.cls) x.push_back(token("cls_token", 0));
    if (v.dist) x.push_back(token("dist_token", 0));
    for (int i = 0; i < v.registers; ++i) x.push_back(token("reg_token", i));
    for (int i = 0; i < posPrefix; ++i)
        for (int o = 0; o < d; ++o) x[std::size_t(i)][std::size_t(o)] += pos[std::size_t(i) * d + o];
    for (int p = 0; p < grid * grid; ++p) {
        std::vector<double> t = patches[std::size_t(p)];
        for (int o = 0; o < d; ++o) t[std::size_t(o)] += patchPos[std::size_t(p)][std::size_t(o)];
        x.push_back(t);
    }
    const int n = int(x.size());
    const int hd = d / heads;
    for (int l = 0; l < depth; ++l) {
        const std::string p = "blocks." + std::to_string(l) + ".";
        Matrix h(static_cast<std::size_t>(n));
        for (int t = 0; t < n; ++t) h[std::size_t(t)] = layerNorm(x[std::size_t(t)], r.get(p + "norm1.weight"), r.get(p + "norm1.bias"), eps);
        const Matrix qkv = linear(h, r.get(p + "attn.qkv.weight"), v.qkvBias ? &r.get(p + "attn.qkv.bias") : nullptr, 3 * d);
        Matrix mixed(std::size_t(n), std::vector<double>(std::size_t(d), 0.0));
        for (int head = 0; head < heads; ++head)
            for (int q = 0; q < n; ++q) {
                std::vector<double> score(static_cast<std::size_t>(n));
                double top = -1e300;
                for (int k = 0; k < n; ++k) {
                    double s = 0;
                    for (int e = 0; e < hd; ++e) s += qkv[std::size_t(q)][std::size_t(head * hd + e)] * qkv[std::size_t(k)][std::size_t(d + head * hd + e)];
                    score[std::size_t(k)] = s / std::sqrt(double(hd));
                    top = std::max(top, score[std::size_t(k)]);
                }
                double total = 0;
                for (double& s : score) total += (s = std::exp(s - top));
                for (int k = 0; k < n; ++k)
                    for (int e = 0; e < hd; ++e)
                        mixed[std::size_t(q)][std::size_t(head * hd + e)] += score[std::size_t(k)] / total * qkv[std::size_t(k)][std::size_t(2 * d + head * hd + e)];
            }
        const Matrix projected = linear(mixed, r.get(p + "attn.proj.weight"), &r.get(p + "attn.proj.bias"), d);
        for (int t = 0; t < n; ++t)
            for (int o = 0; o < d; ++o) x[std::size_t(t)][std::size_t(o)] += projected[std::size_t(t)][std::size_t(o)] * (v.layerScale ? r.get(p + "ls1.gamma")[std::size_t(o)] : 1.0);
        for (int t = 0; t < n; ++t) h[std::size_t(t)] = layerNorm(x[std::size_t(t)], r.get(p + "norm2.weight"), r.get(p + "norm2.bias"), eps);
        Matrix inner = linear(h, r.get(p + "mlp.fc1.weight"), &r.get(p + "mlp.fc1.bias"), hidden);
        for (auto& row : inner)
            for (double& a : row) a = 0.5 * a * (1.0 + std::erf(a / std::sqrt(2.0)));
        const Matrix outer = linear(inner, r.get(p + "mlp.fc2.weight"), &r.get(p + "mlp.fc2.bias"), d);
        for (int t = 0; t < n; ++t)
            for (int o = 0; o < d; ++o) x[std::size_t(t)][std::size_t(o)] += outer[std::size_t(t)][std::size_t(o)] * (v.layerScale ? r.get(p + "ls2.gamma")[std::size_t(o)] : 1.0);
    }
    if (r.has("norm.weight"))
        for (auto& t : x) t = layerNorm(t, r.get("norm.weight"), r.get("norm.bias"), eps);
    std::vector<double> pooled(std::size_t(d), 0.0);
    if (v.pooling == "avg") {
        for (int t = prefix; t < n; ++t)
            for (int o = 0; o < d; ++o) pooled[std::size_t(o)] += x[std::size_t(t)][std::size_t(o)] / (n - prefix);
        pooled = layerNorm(pooled, r.get("fc_norm.weight"), r.get("fc_norm.bias"), eps);
    } else {
        pooled = x[0];
    }
    std::vector<double> logits = linear(Matrix{pooled}, r.get("head.weight"), &r.get("head.bias"), classes)[0];
    if (v.dist) {
        const std::vector<double> distLogits = linear(Matrix{x[1]}, r.get("head_dist.weight"), &r.get("head_dist.bias"), classes)[0];
        for (int c = 0; c < classes; ++c) logits[std::size_t(c)] = (logits[std::size_t(c)] + distLogits[std::size_t(c)]) / 2;
    }
    return logits;
}

std::string writeVariant(const Variant& v) {
    ModelSpec spec;
    spec.layout = v.layout;
    spec.imageHeight = spec.imageWidth = 16;
    spec.patchSize = 4;
    spec.embedDim = 16;
    spec.depth = 2;
    spec.numHeads = 2;
    spec.mlpHidden = 32;
    spec.numClasses = 3;
    spec.classToken = v.cls;
    spec.distillationToken = v.dist;
    spec.registerTokens = v.registers;
    spec.noEmbedClass = v.noEmbedClass;
    spec.layerScale = v.layerScale;
    spec.qkvBias = v.qkvBias;
    spec.pooling = v.pooling;
    spec.fcNorm = v.pooling == "avg";
    VitWeights weights = initializeVitWeights(spec, 7);
    // Move every tensor away from its initial value so that biases, norms and scales matter.
    torch::NoGradGuard noGrad;
    at::manual_seed(11);
    for (auto& [name, tensor] : weights.namedTensors()) *tensor = *tensor + at::randn(tensor->sizes()) * 0.3;
    const std::string dir = ::testing::TempDir() + "fovea_vit_" + v.name;
    std::filesystem::create_directories(dir);
    VitModel(spec, weights, "cpu").saveSafetensors(dir + "/model.safetensors", {});
    writeJsonFile(dir + "/config.json",
                  {{"architecture", "vit_test"},
                   {"model_args",
                    {{"img_size", 16}, {"patch_size", 4}, {"embed_dim", 16}, {"depth", 2}, {"num_heads", 2},
                     {"num_classes", 3}, {"class_token", v.cls}, {"reg_tokens", v.registers},
                     {"no_embed_class", v.noEmbedClass}, {"qkv_bias", v.qkvBias}, {"global_pool", v.pooling}}},
                   {"pretrained_cfg", {{"input_size", {3, 16, 16}}, {"mean", {0.5, 0.5, 0.5}}, {"std", {0.5, 0.5, 0.5}}, {"crop_pct", 1.0}}}});
    return dir;
}

class VitVariant : public ::testing::TestWithParam<Variant> {};

TEST_P(VitVariant, MatchesThePlainReference) {
    const Variant& v = GetParam();
    const std::string dir = writeVariant(v);
    std::unique_ptr<Model> model = openModel(dir);
    EXPECT_EQ(model->spec().distillationToken, v.dist);
    EXPECT_EQ(model->spec().registerTokens, v.registers);
    EXPECT_EQ(model->spec().noEmbedClass, v.noEmbedClass);
    EXPECT_EQ(model->spec().layerScale, v.layerScale);
    EXPECT_EQ(model->spec().pooling, v.pooling);

    ImageInput input;
    input.height = input.width = v.inputSize;
    at::manual_seed(3);
    const at::Tensor pixels = at::randn({3, v.inputSize, v.inputSize});
    input.pixels.assign(pixels.data_ptr<float>(), pixels.data_ptr<float>() + pixels.numel());
    const ModelOutputs out = model->run(input, CaptureRequest());
    const std::vector<double> expected = referenceLogits(loadReference(dir + "/model.safetensors"), v, input.pixels, v.inputSize);
    ASSERT_EQ(out.logits.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(out.logits[i], expected[i], 1e-4) << "logit " << i;

    // Token meaning follows the variant.
    const TokenLayout& tokens = out.attention.tokens;
    EXPECT_EQ(tokens.count(TokenKind::Register), v.registers);
    EXPECT_EQ(tokens.count(TokenKind::Distillation), v.dist ? 1 : 0);
    EXPECT_EQ(tokens.count(TokenKind::Patch), (v.inputSize / 4) * (v.inputSize / 4));
    EXPECT_EQ(out.attention.layers[0].tokens, tokens.size());
}

INSTANTIATE_TEST_SUITE_P(
    Timm, VitVariant,
    ::testing::Values(Variant{"plain"}, Variant{"distilled", true, true},
                      Variant{"registers_no_embed_class", true, false, 2, true, true},
                      Variant{"registers_embedded", true, false, 3, false},
                      Variant{"avg_pool_no_cls_no_qkv_bias", false, false, 0, false, false, false, "avg"},
                      Variant{"upsampled_input", true, false, 0, false, false, true, "token", 24},
                      Variant{"downsampled_input", true, false, 1, true, true, true, "token", 8}),
    [](const auto& p) { return p.param.name; });

TEST(VitNames, WellKnownTimmNamesGiveTheirHyperParameters) {
    const auto base = specFromTimmName("vit_base_patch16_224.augreg_in21k");
    ASSERT_TRUE(base.has_value());
    EXPECT_EQ(base->embedDim, 768);
    EXPECT_EQ(base->numHeads, 12);
    EXPECT_EQ(base->tokenCount(), 197);
    const auto reg = specFromTimmName("vit_small_patch14_reg4_dinov2");
    ASSERT_TRUE(reg.has_value());
    EXPECT_EQ(reg->registerTokens, 4);
    EXPECT_TRUE(reg->noEmbedClass);
    EXPECT_TRUE(reg->layerScale);
    EXPECT_EQ(reg->imageHeight, 518);
    EXPECT_EQ(reg->numHeads, 6);
    const auto deit = specFromTimmName("deit_tiny_distilled_patch16_224");
    ASSERT_TRUE(deit.has_value());
    EXPECT_TRUE(deit->distillationToken);
    EXPECT_EQ(deit->numHeads, 3);
    EXPECT_FALSE(specFromTimmName("vit_base_patch16_clip_224").has_value());
    EXPECT_FALSE(specFromTimmName("resnet50").has_value());
}

TEST(VitNames, UnknownNameWithoutHeadsIsAClearError) {
    Variant v{"unknown_heads"};
    const std::string dir = writeVariant(v);
    writeJsonFile(dir + "/config.json", {{"architecture", "my_vit"}});
    try {
        openModel(dir);
        FAIL() << "expected an error";
    } catch (const fovea::Error& error) {
        EXPECT_NE(std::string(error.what()).find("num_heads"), std::string::npos) << error.what();
    }
}

}  // namespace
