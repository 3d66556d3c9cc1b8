// Keys and queries captured by VitModel::run (they must reproduce the captured attention), and
// segmentation on the shipped shapes model: the glue from a model to the segmenters and the
// `fovea segment` command end to end.
#include "core/data/shapes_scene.h"
#include "core/io/image_io.h"
#include "core/io/json_file.h"
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
