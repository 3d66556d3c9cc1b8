// Keys and queries captured by VitModel::run (they must reproduce the captured attention), values
// (attention x values through the output projection must reproduce the block's attention output
// of an independent plain-loop forward), and segmentation on the shipped shapes model: the glue
// from a model to the segmenters and the `fovea segment` command end to end.
#include "core/data/shapes_scene.h"
#include "core/io/image_io.h"
#include "core/io/json_file.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/model/registry.h"
#include "core/segment/segment_metrics.h"
#include "core/segment/segment_model.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace fovea;

namespace {

const std::string kData = FOVEA_TEST_DATA_DIR "/models/";
const std::string kShapes = FOVEA_SOURCE_DIR "/resources/models/shapes-vit";

int runCli(const std::string& arguments, const std::string& log) {
    const std::string command = std::string("'") + FOVEA_CLI_PATH + "' " + arguments + " --threads 1 >'" + log + "' 2>&1";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(KeysCapture, SoftmaxOfQueriesAndKeysReproducesAttention) {
    const std::string dir = kData + "timm-vit-tiny";
    std::unique_ptr<Model> model = openModel(dir);
    const ModelSpec& spec = model->spec();
    const ImageInput input = loadImageInput(dir + "/input.png", spec);
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    request.keys = true;
    request.queries = true;
    const ModelOutputs out = model->run(input, request);
    const int headDim = spec.embedDim / spec.numHeads;
    ASSERT_EQ(out.attention.layers.size(), std::size_t(spec.depth));
    for (const AttentionLayer& layer : out.attention.layers) {
        ASSERT_TRUE(layer.hasKeys());
        EXPECT_EQ(layer.keyWidth(), spec.embedDim);
        EXPECT_EQ(layer.headDim, headDim);
        const int n = layer.tokens;
        for (int head = 0; head < spec.numHeads; ++head) {
            const std::vector<float> k = layer.headKeys(head), q = layer.headQueries(head);
            const std::vector<float> attention = layer.matrix(layer.headSlot(head));
            double worst = 0.0;
            for (int i = 0; i < n; ++i) {
                std::vector<double> logits(std::size_t(n), 0.0);
                double largest = -1e300;
                for (int j = 0; j < n; ++j) {
                    double dot = 0.0;
                    for (int c = 0; c < headDim; ++c) dot += double(q[std::size_t(i * headDim + c)]) * k[std::size_t(j * headDim + c)];
                    logits[std::size_t(j)] = dot / std::sqrt(double(headDim));
                    largest = std::max(largest, logits[std::size_t(j)]);
                }
                double sum = 0.0;
                for (double& v : logits) sum += (v = std::exp(v - largest));
                for (int j = 0; j < n; ++j) {
                    worst = std::max(worst, std::fabs(logits[std::size_t(j)] / sum - attention[std::size_t(i * n + j)]));
                }
            }
            EXPECT_LT(worst, 1e-5) << "layer " << layer.layer << " head " << head;
        }
    }
    // Keys are not kept unless asked for.
    CaptureRequest plain;
    plain.layers = {spec.depth - 1};
    EXPECT_FALSE(model->run(input, plain).attention.layer(spec.depth - 1).hasKeys());
}

TEST(KeysCapture, EstimateCountsKeysAndQueries) {
    CaptureRequest request;
    request.layers = {2};
    request.precision = AttentionPrecision::Float32;
    const std::size_t attentionOnly = estimateCapture(request, 3, 3, 17, 48).bytes;
    EXPECT_EQ(attentionOnly, std::size_t(3 * 17 * 17 * 4));
    request.keys = true;
    EXPECT_EQ(estimateCapture(request, 3, 3, 17, 48).bytes, attentionOnly + 17 * 48 * 4);
    request.queries = true;
    EXPECT_EQ(estimateCapture(request, 3, 3, 17, 48).bytes, attentionOnly + 2 * 17 * 48 * 4);
    request.memoryBudgetBytes = attentionOnly + 100;
    EXPECT_THROW(enforceCaptureBudget(request, 3, 3, 17, 48), Error);
}

// A plain-loop forward of a timm ViT (no torch), straight from the safetensors weights: what every
// block's attention sublayer computes, kept per layer for the values test. Written from the
// timm definition (pre-norm blocks, LayerNorm eps 1e-6, exact GELU), independently of vit.cpp.
struct PlainVit {
    const SafetensorsFile file;
    int dim, heads, depth, patch;
    explicit PlainVit(const std::string& path, int heads_, int depth_, int patch_)
        : file(SafetensorsFile::open(path)),
          dim(int(file.at("cls_token").shape[2])),
          heads(heads_),
          depth(depth_),
          patch(patch_) {}

    std::vector<float> w(const std::string& name) const { return toFloatVector(file.at(name)); }

    using Tokens = std::vector<std::vector<double>>;
    static void layerNorm(Tokens& x, const std::vector<float>& gamma, const std::vector<float>& beta) {
        for (auto& t : x) {
            double mean = 0.0, var = 0.0;
            for (double v : t) mean += v / double(t.size());
            for (double v : t) var += (v - mean) * (v - mean) / double(t.size());
            for (std::size_t c = 0; c < t.size(); ++c) {
                t[c] = (t[c] - mean) / std::sqrt(var + 1e-6) * gamma[c] + beta[c];
            }
        }
    }
    // y = x W^T + b for W [out, in].
    static Tokens linear(const Tokens& x, const std::vector<float>& weight, const std::vector<float>& bias) {
        const std::size_t out = bias.size(), in = x[0].size();
        Tokens y(x.size(), std::vector<double>(out));
        for (std::size_t t = 0; t < x.size(); ++t) {
            for (std::size_t o = 0; o < out; ++o) {
                double sum = bias[o];
                for (std::size_t i = 0; i < in; ++i) sum += double(weight[o * in + i]) * x[t][i];
                y[t][o] = sum;
            }
        }
        return y;
    }

    struct Layer {
        Tokens values;           // [tokens, dim]: head h in columns h*headDim..
        Tokens attentionOutput;  // proj(attention x values), what the block adds to its input
    };

    // pixels [3, H, W] normalised; returns the logits and fills one Layer per block.
    std::vector<double> run(const std::vector<float>& pixels, int height, int width, std::vector<Layer>& layers) const {
        const int rows = height / patch, cols = width / patch, n = 1 + rows * cols, hd = dim / heads;
        const std::vector<float> conv = w("patch_embed.proj.weight"), convBias = w("patch_embed.proj.bias");
        const std::vector<float> cls = w("cls_token"), pos = w("pos_embed");
        Tokens x(static_cast<std::size_t>(n), std::vector<double>(static_cast<std::size_t>(dim)));
        for (int c = 0; c < dim; ++c) x[0][std::size_t(c)] = cls[std::size_t(c)];
        for (int r = 0; r < rows; ++r) {
            for (int q = 0; q < cols; ++q) {
                for (int o = 0; o < dim; ++o) {
                    double sum = convBias[std::size_t(o)];
                    for (int ch = 0; ch < 3; ++ch) {
                        for (int i = 0; i < patch; ++i) {
                            for (int j = 0; j < patch; ++j) {
                                sum += double(conv[((std::size_t(o) * 3 + ch) * patch + i) * patch + j]) *
                                       pixels[(std::size_t(ch) * height + std::size_t(r * patch + i)) * width +
                                              std::size_t(q * patch + j)];
                            }
                        }
                    }
                    x[std::size_t(1 + r * cols + q)][std::size_t(o)] = sum;
                }
            }
        }
        for (int t = 0; t < n; ++t) {
            for (int c = 0; c < dim; ++c) {
                x[std::size_t(t)][std::size_t(c)] += pos[std::size_t(t) * dim + std::size_t(c)];
            }
        }
        for (int l = 0; l < depth; ++l) {
            const std::string b = "blocks." + std::to_string(l) + ".";
            Tokens h = x;
            layerNorm(h, w(b + "norm1.weight"), w(b + "norm1.bias"));
            const Tokens qkv =
                linear(h, w(b + "attn.qkv.weight"), w(b + "attn.qkv.bias"));  // [q | k | v], heads inside each
            Layer layer;
            layer.values.assign(std::size_t(n), std::vector<double>(std::size_t(dim)));
            Tokens mixed(std::size_t(n), std::vector<double>(std::size_t(dim), 0.0));
            for (int t = 0; t < n; ++t) {
                for (int c = 0; c < dim; ++c) {
                    layer.values[std::size_t(t)][std::size_t(c)] = qkv[std::size_t(t)][std::size_t(2 * dim + c)];
                }
            }
            for (int head = 0; head < heads; ++head) {
                for (int i = 0; i < n; ++i) {
                    std::vector<double> a(static_cast<std::size_t>(n));
                    double largest = -1e300, sum = 0.0;
                    for (int j = 0; j < n; ++j) {
                        double dot = 0.0;
                        for (int c = 0; c < hd; ++c) {
                            dot += qkv[std::size_t(i)][std::size_t(head * hd + c)] *
                                   qkv[std::size_t(j)][std::size_t(dim + head * hd + c)];
                        }
                        largest = std::max(largest, a[std::size_t(j)] = dot / std::sqrt(double(hd)));
                    }
                    for (double& v : a) sum += (v = std::exp(v - largest));
                    for (int j = 0; j < n; ++j) {
                        for (int c = 0; c < hd; ++c) {
                            mixed[std::size_t(i)][std::size_t(head * hd + c)] +=
                                a[std::size_t(j)] / sum * layer.values[std::size_t(j)][std::size_t(head * hd + c)];
                        }
                    }
                }
            }
            layer.attentionOutput = linear(mixed, w(b + "attn.proj.weight"), w(b + "attn.proj.bias"));
            for (int t = 0; t < n; ++t) {
                for (int c = 0; c < dim; ++c) {
                    x[std::size_t(t)][std::size_t(c)] += layer.attentionOutput[std::size_t(t)][std::size_t(c)];
                }
            }
            h = x;
            layerNorm(h, w(b + "norm2.weight"), w(b + "norm2.bias"));
            h = linear(h, w(b + "mlp.fc1.weight"), w(b + "mlp.fc1.bias"));
            for (auto& t : h) {
                for (double& v : t) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
            }
            h = linear(h, w(b + "mlp.fc2.weight"), w(b + "mlp.fc2.bias"));
            for (int t = 0; t < n; ++t) {
                for (int c = 0; c < dim; ++c) x[std::size_t(t)][std::size_t(c)] += h[std::size_t(t)][std::size_t(c)];
            }
            layers.push_back(std::move(layer));
        }
        layerNorm(x, w("norm.weight"), w("norm.bias"));
        return linear(Tokens{x[0]}, w("head.weight"), w("head.bias"))[0];
    }
};

TEST(ValuesCapture, AttentionTimesValuesReproducesTheBlockOutput) {
    const std::string dir = kData + "timm-vit-tiny";
    std::unique_ptr<Model> model = openModel(dir);
    const ModelSpec& spec = model->spec();
    const ImageInput input = loadImageInput(dir + "/input_tensor.npy", spec);
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    request.values = true;
    const ModelOutputs out = model->run(input, request);

    // The plain loop is itself checked against the fixture's logits (an independent PyTorch run).
    const PlainVit plain(dir + "/model.safetensors", spec.numHeads, spec.depth, spec.patchSize);
    std::vector<PlainVit::Layer> reference;
    const std::vector<double> logits = plain.run(input.pixels, input.height, input.width, reference);
    const std::vector<float> expected = readNpy(dir + "/expected_logits.npy").toFloats();
    ASSERT_EQ(logits.size(), expected.size());
    for (std::size_t c = 0; c < logits.size(); ++c) EXPECT_NEAR(logits[c], expected[c], 1e-4) << "class " << c;

    const int headDim = spec.embedDim / spec.numHeads, dim = spec.embedDim;
    ASSERT_EQ(out.attention.layers.size(), std::size_t(spec.depth));
    for (const AttentionLayer& layer : out.attention.layers) {
        ASSERT_FALSE(layer.values.empty());
        EXPECT_FALSE(layer.hasKeys());  // only what was asked for
        const int n = layer.tokens;
        const PlainVit::Layer& want = reference[std::size_t(layer.layer)];
        // mixed = concat over heads of attention(h) x values(h), from the captured tensors only.
        std::vector<double> mixed(std::size_t(n) * dim, 0.0);
        double worstValue = 0.0;
        for (int head = 0; head < spec.numHeads; ++head) {
            const std::vector<float> v = layer.headValues(head);
            const std::vector<float> a = layer.matrix(layer.headSlot(head));
            for (int t = 0; t < n; ++t) {
                for (int c = 0; c < headDim; ++c) {
                    worstValue =
                        std::max(worstValue, std::fabs(v[std::size_t(t * headDim + c)] -
                                                       want.values[std::size_t(t)][std::size_t(head * headDim + c)]));
                }
            }
            for (int i = 0; i < n; ++i) {
                for (int j = 0; j < n; ++j) {
                    const double weight = a[std::size_t(i * n + j)];
                    for (int c = 0; c < headDim; ++c) {
                        mixed[std::size_t(i) * dim + std::size_t(head * headDim + c)] +=
                            weight * v[std::size_t(j * headDim + c)];
                    }
                }
            }
        }
        EXPECT_LT(worstValue, 1e-4) << "layer " << layer.layer;
        const std::string b = "blocks." + std::to_string(layer.layer) + ".";
        const std::vector<float> proj = plain.w(b + "attn.proj.weight"), projBias = plain.w(b + "attn.proj.bias");
        double worstOutput = 0.0, largest = 0.0;
        for (int t = 0; t < n; ++t) {
            for (int o = 0; o < dim; ++o) {
                double sum = projBias[std::size_t(o)];
                for (int c = 0; c < dim; ++c) {
                    sum += double(proj[std::size_t(o) * dim + std::size_t(c)]) *
                           mixed[std::size_t(t) * dim + std::size_t(c)];
                }
                const double target = want.attentionOutput[std::size_t(t)][std::size_t(o)];
                worstOutput = std::max(worstOutput, std::fabs(sum - target));
                largest = std::max(largest, std::fabs(target));
            }
        }
        EXPECT_GT(largest, 1e-3) << "layer " << layer.layer;  // a real signal, not zeros on both sides
        EXPECT_LT(worstOutput, 1e-4) << "layer " << layer.layer;
    }
    // One head's values are its columns of the concatenated layout; a head that does not exist throws.
    EXPECT_THROW(out.attention.layers[0].headValues(spec.numHeads), Error);
    CaptureRequest plainRequest;
    plainRequest.layers = {0};
    EXPECT_TRUE(model->run(input, plainRequest).attention.layer(0).values.empty());
}

TEST(ValuesCapture, EstimateCountsValues) {
    CaptureRequest request;
    request.layers = {1, 2};
    request.precision = AttentionPrecision::Float32;
    const std::size_t attentionOnly = estimateCapture(request, 3, 3, 17, 48).bytes;
    request.values = true;
    EXPECT_EQ(estimateCapture(request, 3, 3, 17, 48).bytes, attentionOnly + 2 * 17 * 48 * 4);
    request.keys = request.queries = true;
    EXPECT_EQ(estimateCapture(request, 3, 3, 17, 48).bytes, attentionOnly + 2 * 3 * 17 * 48 * 4);
}

TEST(SegmentModel, EveryMethodRunsOnTheShapesModel) {
    std::unique_ptr<Model> model = openModel(kShapes);
    const Scene scene = generateScene(1000000000ULL + 500000);
    const ImageInput input = makeImageInput(scene.image, model->spec(), "scene");
    for (const Segmenter* method : segmenters()) {
        SegmentParams params = method->defaults();
        if (method->name() == "heatmap") params["mode"] = 2;  // best IoU: needs the ground truth
        const Segmentation result = method->segment(segmentInputsFor(*model, input, *method, {}, scene.targetMask), params);
        ASSERT_FALSE(result.labels.empty()) << method->name();
        if (method->needs() == SegmentNeeds::Keys || method->needs() == SegmentNeeds::Attention) {
            EXPECT_EQ(result.labels.size(), cv::Size(8, 8)) << method->name();
        }
        EXPECT_GE(result.count, 1) << method->name();
        double low = 0, high = 0;
        cv::minMaxLoc(result.labels, &low, &high);
        EXPECT_GE(low, 0) << method->name();
        EXPECT_LE(high, result.count) << method->name();
    }
    const SegmentInputs inputs = segmentInputsFor(*model, input, findSegmenter("lost"), {});
    EXPECT_EQ(inputs.keys.rows, 64);
    EXPECT_EQ(inputs.keys.cols, 96);
    EXPECT_EQ(inputs.headAttention.size(), 4u);
}

TEST(SegmentCli, MasksOverlaysAndEvalTable) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "fovea_test_segment_cli";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const Scene scene = generateScene(77);
    const std::string image = (dir / "scene.png").string();
    cv::imwrite(image, scene.image);
    const std::string log = (dir / "log.txt").string();
    ASSERT_EQ(runCli("segment '" + kShapes + "' '" + image + "' --method tokencut --param tau=0.25 --out '" + (dir / "out").string() + "'", log), 0)
        << readFileContents(log);
    const cv::Mat mask = cv::imread((dir / "out" / "scene_mask.png").string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(mask.empty());
    EXPECT_EQ(mask.size(), cv::Size(64, 64));
    EXPECT_EQ(mask.type(), CV_8U);
    EXPECT_GT(cv::countNonZero(mask), 0);
    const cv::Mat overlay = cv::imread((dir / "out" / "scene_overlay.png").string());
    ASSERT_FALSE(overlay.empty());
    EXPECT_EQ(overlay.size(), cv::Size(64, 64));
    EXPECT_GT(cv::norm(overlay, scene.image, cv::NORM_L1), 0.0);  // something was drawn

    const std::string table = (dir / "table.csv").string();
    ASSERT_EQ(runCli("segment eval '" + kShapes + "' --scenes 3 --methods dino,tokencut --out '" + table + "'", log), 0) << readFileContents(log);
    const std::string csv = readFileContents(table);
    EXPECT_EQ(csv.rfind("method,miou,miou_ci95,corloc,corloc_ci95,images,ms_per_image\n", 0), 0u) << csv;
    EXPECT_NE(csv.find("\ndino,"), std::string::npos);
    EXPECT_NE(csv.find("\ntokencut,"), std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(dir / "table.md"));

    // Clear one-line errors.
    EXPECT_EQ(runCli("segment '" + kShapes + "' '" + image + "' --method nope --out '" + (dir / "out").string() + "'", log), 1);
    EXPECT_NE(readFileContents(log).find("unknown segmentation method 'nope'"), std::string::npos);
    EXPECT_EQ(runCli("segment '" + kShapes + "' '" + (dir / "absent.png").string() + "' --out '" + (dir / "out").string() + "'", log), 1);
    EXPECT_NE(readFileContents(log).find("absent.png"), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace
