// Segmentation methods on synthetic inputs whose right answer is known (two well-separated
// clusters of key features, a planted attention blob, a bimodal heatmap), the generalised
// eigen-solver against a brute-force solve, and the metrics / ground-truth readers on
// hand-computed cases.
#include "core/segment/segment_metrics.h"
#include "core/segment/segmenter.h"
#include "core/segment/spectral.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

using namespace fovea;

namespace {

// A gridRows x gridCols grid whose patches inside `object` get keys near one direction and the
// rest near another (negative dot products across the two), plus a little noise.
SegmentInputs twoClusterKeys(int rows, int cols, cv::Rect object, int dim = 16, unsigned seed = 7) {
    SegmentInputs inputs;
    inputs.gridRows = rows;
    inputs.gridCols = cols;
    inputs.keys.create(rows * cols, dim);
    std::mt19937 random(seed);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            float* key = inputs.keys.ptr<float>(r * cols + c);
            for (int d = 0; d < dim; ++d) key[d] = noise(random);
            if (object.contains({c, r})) {
                key[0] += 1.0f;
            } else {
                key[0] -= 0.3f;
                key[1] += 1.0f;
            }
        }
    }
    return inputs;
}

cv::Mat1b gridMask(int rows, int cols, cv::Rect object) {
    cv::Mat1b mask(rows, cols, uchar(0));
    mask(object).setTo(255);
    return mask;
}

double iouWith(const Segmentation& result, const cv::Mat1b& truth) { return maskIoU(result.labels > 0, truth); }

TEST(Segmenters, RegistryAndParameters) {
    const std::vector<std::string> names = segmenterNames();
    for (const char* expected : {"dino", "lost", "tokencut", "spectral", "heatmap", "cam-mask", "kmeans-parts"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    }
    EXPECT_DOUBLE_EQ(findSegmenter("dino").defaults().at("th"), 0.6);
    EXPECT_DOUBLE_EQ(findSegmenter("lost").defaults().at("k"), 100);
    EXPECT_DOUBLE_EQ(findSegmenter("tokencut").defaults().at("tau"), 0.2);
    EXPECT_DOUBLE_EQ(findSegmenter("cam-mask").defaults().at("background"), 0.15);
    EXPECT_THROW(findSegmenter("nope"), Error);
    EXPECT_THROW(findSegmenter("lost").resolve({{"kk", 3}}), Error);
    EXPECT_THROW(findSegmenter("lost").resolve({{"k", 2.5}}), Error);
    EXPECT_THROW(findSegmenter("tokencut").resolve({{"tau", 3}}), Error);
    EXPECT_DOUBLE_EQ(findSegmenter("tokencut").resolve({{"tau", 0.3}}).at("tau"), 0.3);
}

TEST(Segmenters, KeyMethodsFindThePlantedCluster) {
    const cv::Rect object(2, 3, 4, 3);
    for (const auto& [rows, cols] : {std::pair{8, 8}, std::pair{14, 14}}) {
        const SegmentInputs inputs = twoClusterKeys(rows, cols, object);
        const cv::Mat1b truth = gridMask(rows, cols, object);
        for (const char* name : {"lost", "tokencut", "spectral", "kmeans-parts"}) {
            const Segmenter& method = findSegmenter(name);
            SegmentParams given;
            if (std::string(name) == "kmeans-parts") given["k"] = 2;
            const Segmentation result = method.segment(inputs, method.resolve(given));
            EXPECT_DOUBLE_EQ(iouWith(result, truth), 1.0) << name << " on " << rows << "x" << cols;
            ASSERT_GE(result.boxes.size(), 1u) << name;
            EXPECT_EQ(result.boxes[0], object) << name;
        }
    }
    // Without keys the key methods say so.
    SegmentInputs empty;
    empty.gridRows = empty.gridCols = 4;
    EXPECT_THROW(findSegmenter("tokencut").segment(empty, findSegmenter("tokencut").defaults()), Error);
}

TEST(Segmenters, TokenCutSolversAgree) {
    const cv::Rect object(10, 4, 9, 7);
    const SegmentInputs inputs = twoClusterKeys(32, 32, object, 24, 11);  // 1,024 patches
    const Segmenter& method = findSegmenter("tokencut");
    const Segmentation lanczos = method.segment(inputs, method.resolve({{"solver", 2}}));
    EXPECT_DOUBLE_EQ(iouWith(lanczos, gridMask(32, 32, object)), 1.0);
    const SegmentInputs small = twoClusterKeys(14, 14, cv::Rect(3, 3, 5, 6), 24, 12);
    const Segmentation dense = method.segment(small, method.resolve({{"solver", 1}}));
    const Segmentation viaLanczos = method.segment(small, method.resolve({{"solver", 2}}));
    EXPECT_EQ(cv::countNonZero(dense.labels != viaLanczos.labels), 0);
}

TEST(Segmenters, SpectralRegionsSplitThreeClusters) {
    SegmentInputs inputs = twoClusterKeys(10, 10, cv::Rect(1, 1, 3, 3));
    // A third cluster along another axis.
    for (int r = 6; r < 9; ++r) {
        for (int c = 5; c < 9; ++c) {
            float* key = inputs.keys.ptr<float>(r * 10 + c);
            key[0] = -0.3f;
            key[1] = 0.0f;
            key[2] = 1.0f;
        }
    }
    const Segmenter& method = findSegmenter("spectral");
    const Segmentation result = method.segment(inputs, method.resolve({{"regions", 3}}));
    EXPECT_EQ(result.count, 2);
    const cv::Mat1b first = gridMask(10, 10, cv::Rect(1, 1, 3, 3)), second = gridMask(10, 10, cv::Rect(5, 6, 4, 3));
    EXPECT_EQ(cv::countNonZero(result.labels == 0), 100 - 9 - 12);
    const int labelA = result.labels(1, 1), labelB = result.labels(6, 5);
    EXPECT_NE(labelA, 0);
    EXPECT_NE(labelB, 0);
    EXPECT_NE(labelA, labelB);
    EXPECT_DOUBLE_EQ(maskIoU(result.labels == labelA, first), 1.0);
    EXPECT_DOUBLE_EQ(maskIoU(result.labels == labelB, second), 1.0);
}

TEST(Segmenters, DinoMassThresholdKeepsThePlantedBlob) {
    SegmentInputs inputs;
    inputs.gridRows = inputs.gridCols = 8;
    cv::Mat1f attention(8, 8, 0.04f / 60.0f);
    attention(cv::Rect(5, 1, 2, 2)).setTo(0.24f);
    inputs.headAttention = {attention, attention.clone()};
    const Segmenter& dino = findSegmenter("dino");
    // th 0.95: cumulative mass above 0.05 is exactly the blob (the rest holds 0.04).
    const Segmentation all = dino.segment(inputs, dino.resolve({{"th", 0.95}}));
    EXPECT_DOUBLE_EQ(iouWith(all, gridMask(8, 8, cv::Rect(5, 1, 2, 2))), 1.0);
    // th 0.6: the smallest set holding 60% of the mass is three blob patches (72%).
    EXPECT_EQ(cv::countNonZero(dino.segment(inputs, dino.defaults()).labels), 3);
    // Union of per-head masks; one head.
    EXPECT_EQ(cv::countNonZero(dino.segment(inputs, dino.resolve({{"fusion", 1}, {"th", 0.95}})).labels), 4);
    EXPECT_EQ(cv::countNonZero(dino.segment(inputs, dino.resolve({{"fusion", 2}, {"head", 1}, {"th", 0.95}})).labels), 4);
    EXPECT_THROW(dino.segment(inputs, dino.resolve({{"fusion", 2}, {"head", 2}})), Error);
}

TEST(Segmenters, HeatmapThresholdModes) {
    SegmentInputs inputs;
    inputs.map = cv::Mat1f(16, 16, 0.1f);
    inputs.map(cv::Rect(4, 4, 6, 5)).setTo(0.9f);
    inputs.map(0, 0) = 0.0f;
    inputs.map(15, 15) = 1.0f;  // one hot outlier
    const Segmenter& method = findSegmenter("heatmap");
    cv::Mat1b truth(16, 16, uchar(0));
    truth(cv::Rect(4, 4, 6, 5)).setTo(255);
    cv::Mat1b withOutlier = truth.clone();
    withOutlier(15, 15) = 255;
    EXPECT_DOUBLE_EQ(maskIoU(method.segment(inputs, method.defaults()).labels, withOutlier), 1.0);  // Otsu
    EXPECT_DOUBLE_EQ(maskIoU(method.segment(inputs, method.resolve({{"mode", 0}, {"th", 0.95}})).labels, cv::Mat1b(16, 16, uchar(0)) | (inputs.map >= 1.0f)),
                     1.0);
    EXPECT_THROW(method.segment(inputs, method.resolve({{"mode", 2}})), Error);
    // Best IoU against a ground truth at 4x the map's resolution.
    cv::Mat1b big;
    cv::resize(truth, big, cv::Size(64, 64), 0, 0, cv::INTER_NEAREST);
    inputs.groundTruth = big;
    const Segmentation best = method.segment(inputs, method.resolve({{"mode", 2}}));
    EXPECT_DOUBLE_EQ(maskIoU(resizeLabels(best.labels, big.size()) > 0, big), 30.0 / 31.0);  // all but the outlier
}

TEST(Segmenters, CamToMaskArgmaxWithBackground) {
    SegmentInputs inputs;
    cv::Mat1f a(2, 3), b(2, 3);
    a << 10, 1, 0, -5, 6, 1;  // scaled: 1, 0.1, 0, 0, 0.6, 0.1
    b << 0, 2, 0, 4, 1, 0;    // scaled: 0, 0.5, 0, 1, 0.25, 0
    inputs.classMaps = {a, b};
    const Segmenter& method = findSegmenter("cam-mask");
    const Segmentation result = method.segment(inputs, method.defaults());
    cv::Mat1i expected(2, 3);
    expected << 1, 2, 0, 2, 1, 0;
    EXPECT_EQ(cv::countNonZero(result.labels != expected), 0);
    EXPECT_EQ(result.count, 2);
    const Segmentation strict = method.segment(inputs, method.resolve({{"background", 0.7}}));
    expected << 1, 0, 0, 2, 0, 0;
    EXPECT_EQ(cv::countNonZero(strict.labels != expected), 0);
}

TEST(Spectral, GeneralizedEigenpairsMatchBruteForce) {
    std::mt19937 random(3);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (const int n : {9, 60}) {
        cv::Mat1d affinity(n, n);
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j <= i; ++j) affinity(i, j) = affinity(j, i) = uniform(random) * uniform(random);
        }
        cv::Mat1d degree = cv::Mat1d::zeros(n, n);
        for (int i = 0; i < n; ++i) degree(i, i) = cv::sum(affinity.row(i))[0];
        // Brute force: the eigenvalues of D^-1 (D - A), a non-symmetric matrix.
        cv::Mat1d general = degree.inv() * (degree - affinity);
        cv::Mat values, vectors;
        cv::eigenNonSymmetric(general, values, vectors);
        std::vector<double> reference(values.begin<double>(), values.end<double>());
        std::sort(reference.begin(), reference.end());
        for (const EigenSolver solver : {EigenSolver::Dense, EigenSolver::Lanczos}) {
            const int count = 4;
            const SpectralPairs pairs = smallestGeneralizedEigenpairs(affinity, count, solver);
            ASSERT_EQ(int(pairs.values.size()), count);
            for (int k = 0; k < count; ++k) {
                EXPECT_NEAR(pairs.values[std::size_t(k)], reference[std::size_t(k)], 1e-8) << "n " << n << " k " << k;
                const cv::Mat1d x = pairs.vectors.row(k).t();
                const cv::Mat1d residual = (degree - affinity) * x - pairs.values[std::size_t(k)] * degree * x;
                EXPECT_LT(cv::norm(residual), 1e-8);
                EXPECT_NEAR(cv::Mat1d(x.t() * degree * x)(0), 1.0, 1e-9);  // D-normalised
            }
        }
    }
    EXPECT_THROW(smallestGeneralizedEigenpairs(cv::Mat1d::zeros(3, 3), 2), Error);
}

TEST(SegmentMetrics, IoUBoxesAndCorLoc) {
    cv::Mat1b a(4, 4, uchar(0)), b(4, 4, uchar(0));
    a(cv::Rect(0, 0, 2, 2)).setTo(1);  // 4 pixels
    b(cv::Rect(1, 0, 2, 2)).setTo(1);  // 4 pixels, 2 shared
    EXPECT_DOUBLE_EQ(maskIoU(a, b), 2.0 / 6.0);
    EXPECT_DOUBLE_EQ(maskIoU(cv::Mat1b(3, 3, uchar(0)), cv::Mat1b(3, 3, uchar(0))), 1.0);
    EXPECT_DOUBLE_EQ(boxIoU({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0 / 150.0);
    EXPECT_DOUBLE_EQ(boxIoU({0, 0, 10, 10}, {20, 20, 5, 5}), 0.0);
    EXPECT_TRUE(corLocHit({0, 0, 10, 10}, {{40, 40, 5, 5}, {1, 0, 10, 10}}));  // 90/110
    EXPECT_FALSE(corLocHit({0, 0, 10, 10}, {{5, 0, 10, 10}}));
    cv::Mat1b mask(10, 10, uchar(0));
    mask(cv::Rect(0, 0, 2, 2)).setTo(255);
    mask(cv::Rect(5, 4, 3, 4)).setTo(255);
    mask(8, 8) = 255;  // touches the big one diagonally only: not 4-connected
    EXPECT_EQ(largestComponentBox(mask), cv::Rect(5, 4, 3, 4));
    EXPECT_EQ(largestComponentBox(cv::Mat1b(3, 3, uchar(0))), cv::Rect());

    IoUAccumulator accumulator(3);
    cv::Mat1i truth(1, 6), predicted(1, 6);
    truth << 0, 0, 1, 1, 2, 255;
    predicted << 0, 1, 1, 1, 0, 2;
    accumulator.add(predicted, truth);
    EXPECT_DOUBLE_EQ(accumulator.classIoU(0), 1.0 / 3.0);  // hit 1, truth 2, predicted 2
    EXPECT_DOUBLE_EQ(accumulator.classIoU(1), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(accumulator.classIoU(2), 0.0);        // the void pixel is ignored
    EXPECT_DOUBLE_EQ(accumulator.meanIoU(), 1.0 / 3.0);
}

TEST(SegmentMetrics, RleDecodingHandComputed) {
    // 2 x 3, column-major pixels 0,1 | 1,1 | 0,0.
    const cv::Mat1b mask = decodeRle({1, 3, 2}, 2, 3);
    cv::Mat1b expected(2, 3);
    expected << 0, 255, 0, 255, 255, 0;
    EXPECT_EQ(cv::countNonZero(mask != expected), 0);
    EXPECT_EQ(encodeRle(mask), (std::vector<long long>{1, 3, 2}));
    EXPECT_EQ(encodeRleString({1, 3, 2}), "132");
    // Counts after the second are deltas: 2 - 3 = -1 -> 31 + 48 = 'O'; 100 = 4 | 32, then 3.
    EXPECT_EQ(encodeRleString({5, 3, 10, 2}), "53:O");
    EXPECT_EQ(parseRleString("53:O"), (std::vector<long long>{5, 3, 10, 2}));
    EXPECT_EQ(encodeRleString({100}), "T3");
    EXPECT_EQ(parseRleString("T3"), (std::vector<long long>{100}));
    EXPECT_THROW(decodeRle({1, 3}, 2, 3), Error);
    EXPECT_THROW(parseRleString("T"), Error);
    // Round trip on a random mask.
    cv::Mat1b random(37, 23);
    cv::randu(random, 0, 2);
    const cv::Mat1b roundTrip = decodeRle(parseRleString(encodeRleString(encodeRle(random))), 37, 23);
    EXPECT_EQ(cv::countNonZero((roundTrip != 0) != (random != 0)), 0);
}

TEST(SegmentMetrics, ReadsCocoAndLabelMasks) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "fovea_test_segment";
    std::filesystem::create_directories(dir);
    const std::string json = (dir / "instances.json").string();
    {
        std::ofstream out(json);
        out << R"({"images": [{"id": 7, "file_name": "a.jpg", "height": 4, "width": 5}, {"id": 8, "file_name": "b.jpg", "height": 2, "width": 2}],
                   "annotations": [
                     {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 1, 2, 2], "segmentation": [[1, 1, 3, 1, 3, 3, 1, 3]]},
                     {"id": 2, "image_id": 7, "category_id": 4, "iscrowd": 1, "segmentation": {"size": [4, 5], "counts": [16, 4]}},
                     {"id": 3, "image_id": 7, "category_id": 5, "segmentation": {"size": [4, 5], "counts": "0d0"}},
                     {"id": 4, "image_id": 8, "category_id": 1, "segmentation": [[0, 0, 2, 0, 2, 2]]}]})";
    }
    const std::vector<CocoObject> objects = readCocoObjects(json, "a.jpg");
    ASSERT_EQ(objects.size(), 3u);
    EXPECT_EQ(objects[0].category, 3);
    EXPECT_EQ(objects[0].box, cv::Rect(1, 1, 2, 2));
    cv::Mat1b square(4, 5, uchar(0));
    square(cv::Rect(1, 1, 2, 2)).setTo(255);
    EXPECT_EQ(cv::countNonZero(objects[0].mask != square), 0);
    EXPECT_TRUE(objects[1].crowd);
    cv::Mat1b lastColumn(4, 5, uchar(0));
    lastColumn.col(4).setTo(255);
    EXPECT_EQ(cv::countNonZero(objects[1].mask != lastColumn), 0);
    // "0d0": counts 0, 20 ("d" = 52: value 20 with the continuation bit, "0" ends it): all inside.
    EXPECT_EQ(cv::countNonZero(objects[2].mask), 20);
    EXPECT_EQ(readCocoObjects(json, "7").size(), 3u);
    try {
        readCocoObjects(json, "missing.jpg");
        FAIL();
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("instances.json"), std::string::npos);
        EXPECT_NE(std::string(error.what()).find("missing.jpg"), std::string::npos);
    }

    cv::Mat1b labels(3, 4, uchar(0));
    labels(1, 2) = 2;
    labels(0, 0) = 1;
    const std::string png = (dir / "labels.png").string();
    cv::imwrite(png, labels);
    const cv::Mat1i read = readLabelMask(png);
    EXPECT_EQ(read(1, 2), 2);
    EXPECT_EQ(read(0, 0), 1);
    EXPECT_EQ(cv::countNonZero(read), 2);
    EXPECT_THROW(readLabelMask((dir / "absent.png").string()), Error);
    std::filesystem::remove_all(dir);
}

}  // namespace
