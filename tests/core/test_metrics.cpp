// Explanation metrics against hand-computed examples.
#include "core/explain/metrics.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cmath>

using namespace fovea;

namespace {

TEST(Metrics, EnergyPointingGame) {
    cv::Mat1f map(2, 2);
    map << 1, 2, 3, 4;
    cv::Mat1b mask(2, 2);
    mask << 255, 0, 0, 255;
    EXPECT_DOUBLE_EQ(energyPointingGame(map, mask), 5.0 / 10.0);
    cv::Mat1f negative(2, 2);
    negative << -1, 1, 1, 0;  // negatives count as zero
    cv::Mat1b topRight(2, 2);
    topRight << 0, 255, 0, 0;
    EXPECT_DOUBLE_EQ(energyPointingGame(negative, topRight), 0.5);
    EXPECT_TRUE(std::isnan(energyPointingGame(cv::Mat1f::zeros(2, 2), mask)));
}

TEST(Metrics, DeletionFollowsTheSaliencyOrderAndTheRiseAuc) {
    cv::Mat1f image(1, 4, 1.0f);
    cv::Mat1f saliency(1, 4);
    saliency << 0.1f, 0.4f, 0.3f, 0.2f;  // order: pixel 1, 2, 3, 0
    const ImageScorer weighted = [](const cv::Mat& m) {
        return 1.0 * m.at<float>(0, 0) + 2.0 * m.at<float>(0, 1) + 3.0 * m.at<float>(0, 2) + 4.0 * m.at<float>(0, 3);
    };
    const PerturbationCurve curve = deletionCurve(image, saliency, weighted, 1);
    ASSERT_EQ(curve.score.size(), 5u);
    EXPECT_EQ(curve.score, (std::vector<double>{10, 8, 5, 1, 0}));
    EXPECT_EQ(curve.fraction, (std::vector<double>{0, 0.25, 0.5, 0.75, 1.0}));
    EXPECT_DOUBLE_EQ(curve.auc, (10 + 8 + 5 + 1 + 0 - 5.0 - 0.0) / 4.0);
    // Three pixels a step: 0, 3, then the last one.
    const PerturbationCurve coarse = deletionCurve(image, saliency, weighted, 3);
    EXPECT_EQ(coarse.score, (std::vector<double>{10, 1, 0}));
    EXPECT_EQ(coarse.fraction, (std::vector<double>{0, 0.75, 1.0}));
    EXPECT_THROW(deletionCurve(image, saliency, weighted, 0), Error);
}

TEST(Metrics, InsertionStartsBlurredAndEndsAtTheImage) {
    cv::Mat3f image(16, 16, cv::Vec3f(0, 0, 0));
    image(8, 8) = cv::Vec3f(1, 1, 1);  // one bright pixel: blurring spreads it out
    cv::Mat1f saliency(16, 16, 0.0f);
    saliency(8, 8) = 1.0f;  // ... and it is the first one put back
    std::vector<float> centre;
    const ImageScorer atCentre = [&](const cv::Mat& m) {
        centre.push_back(m.at<cv::Vec3f>(8, 8)[0]);
        return double(m.at<cv::Vec3f>(8, 8)[0]);
    };
    const PerturbationCurve curve = insertionCurve(image, saliency, atCentre, 16);
    ASSERT_EQ(curve.score.size(), 17u);
    EXPECT_GT(curve.score.front(), 0.0);
    EXPECT_LT(curve.score.front(), 0.1);  // a sigma-5 blur leaves little at the centre
    for (std::size_t i = 1; i < curve.score.size(); ++i) EXPECT_FLOAT_EQ(float(curve.score[i]), 1.0f);
}

TEST(Metrics, BestThresholdIoU) {
    cv::Mat1b mask(1, 4);
    mask << 255, 255, 0, 0;
    cv::Mat1f perfect(1, 4);
    perfect << 0.9f, 0.8f, 0.1f, 0.2f;
    EXPECT_DOUBLE_EQ(bestThresholdIoU(perfect, mask), 1.0);
    cv::Mat1f mixed(1, 4);
    mixed << 0.9f, 0.1f, 0.8f, 0.2f;  // thresholds give IoU 1/2, 1/3, 1/4, 2/4
    EXPECT_DOUBLE_EQ(bestThresholdIoU(mixed, mask), 0.5);
}

TEST(Metrics, SpearmanAndTopK) {
    cv::Mat1f a(1, 4), b(1, 4), reversed(1, 4), tied(1, 4);
    a << 1, 2, 3, 4;
    b << 10, 20, 30, 40;
    reversed << 40, 30, 20, 10;
    tied << 1, 2, 2, 3;
    EXPECT_DOUBLE_EQ(spearmanCorrelation(a, b), 1.0);
    EXPECT_DOUBLE_EQ(spearmanCorrelation(a, reversed), -1.0);
    EXPECT_NEAR(spearmanCorrelation(tied, a), 4.5 / std::sqrt(4.5 * 5.0), 1e-12);
    cv::Mat1f x(1, 4), y(1, 4);
    x << 4, 3, 2, 1;
    y << 4, 1, 3, 2;
    EXPECT_DOUBLE_EQ(topKIoU(x, y, 2), 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(topKIoU(x, x, 3), 1.0);
    EXPECT_THROW(topKIoU(x, y, 5), Error);
    EXPECT_THROW(spearmanCorrelation(x, cv::Mat1f(2, 2)), Error);
}

}  // namespace
