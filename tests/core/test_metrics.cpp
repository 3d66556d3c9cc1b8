// Explanation metrics against hand-computed examples.
#include "core/explain/metrics.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cmath>
#include <random>

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

// The ROAD imputer's system built densely from its definition: for each removed pixel,
// sum over its in-image neighbours of w * (x_i - value_j) = 0.
cv::Mat denseImputation(const cv::Mat3f& image, const cv::Mat1b& removed) {
    std::vector<cv::Point> unknown;
    cv::Mat1i index(image.size(), -1);
    for (int y = 0; y < image.rows; ++y) {
        for (int x = 0; x < image.cols; ++x) {
            if (removed(y, x) == 0) continue;
            index(y, x) = int(unknown.size());
            unknown.emplace_back(x, y);
        }
    }
    const int n = int(unknown.size());
    cv::Mat1d a = cv::Mat1d::zeros(n, n), b = cv::Mat1d::zeros(n, 3);
    for (int i = 0; i < n; ++i) {
        for (int dy = -1; dy <= 1; ++dy) {
            for (int dx = -1; dx <= 1; ++dx) {
                const int y = unknown[std::size_t(i)].y + dy, x = unknown[std::size_t(i)].x + dx;
                if ((dx == 0 && dy == 0) || y < 0 || x < 0 || y >= image.rows || x >= image.cols) continue;
                const double w = (dx == 0 || dy == 0) ? 1.0 / 6.0 : 1.0 / 12.0;
                a(i, i) += w;
                if (index(y, x) >= 0) {
                    a(i, index(y, x)) -= w;
                } else {
                    for (int c = 0; c < 3; ++c) b(i, c) += w * image(y, x)[c];
                }
            }
        }
    }
    cv::Mat1d solution;
    cv::solve(a, b, solution, cv::DECOMP_LU);
    cv::Mat3f result = image.clone();
    for (int i = 0; i < n; ++i) {
        for (int c = 0; c < 3; ++c) result(unknown[std::size_t(i)])[c] = float(solution(i, c));
    }
    return result;
}

cv::Mat3f randomImage(int rows, int cols, unsigned seed) {
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    cv::Mat3f image(rows, cols);
    for (auto& pixel : image) pixel = cv::Vec3f(uniform(generator), uniform(generator), uniform(generator));
    return image;
}

double maxDifference(const cv::Mat& a, const cv::Mat& b) {
    return cv::norm(a, b, cv::NORM_INF);
}

TEST(Metrics, RoadImputesOnePixelAsTheWeightedMeanOfItsNeighbours) {
    const cv::Mat3f image = randomImage(5, 6, 1);
    const cv::Scalar noNoise = cv::Scalar::all(0.0);
    cv::Mat1b removed = cv::Mat1b::zeros(5, 6);
    removed(2, 3) = 1;
    const cv::Mat3f inner = noisyLinearImputation(image, removed, 0, noNoise);
    for (int c = 0; c < 3; ++c) {
        const double sides = image(1, 3)[c] + image(3, 3)[c] + image(2, 2)[c] + image(2, 4)[c];
        const double diagonals = image(1, 2)[c] + image(1, 4)[c] + image(3, 2)[c] + image(3, 4)[c];
        EXPECT_NEAR(inner(2, 3)[c], sides / 6.0 + diagonals / 12.0, 1e-6);
    }
    // Nothing else changes.
    for (int y = 0; y < 5; ++y) {
        for (int x = 0; x < 6; ++x) {
            if (removed(y, x) == 0) {
                EXPECT_EQ(inner(y, x), image(y, x));
            }
        }
    }
    removed(2, 3) = 0;
    // A corner keeps three neighbours, weights 1/6, 1/6, 1/12 renormalised to 2/5, 2/5, 1/5.
    removed(0, 0) = 1;
    const cv::Mat3f corner = noisyLinearImputation(image, removed, 0, noNoise);
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(corner(0, 0)[c], 0.4 * image(0, 1)[c] + 0.4 * image(1, 0)[c] + 0.2 * image(1, 1)[c], 1e-6);
    }
    for (int y = 0; y < 5; ++y) {
        for (int x = 0; x < 6; ++x) {
            if (y + x > 0) {
                EXPECT_EQ(corner(y, x), image(y, x));
            }
        }
    }
    // A constant image stays constant, whatever is removed (borders included).
    const cv::Mat3f constant(5, 6, cv::Vec3f(0.25f, -1.0f, 3.0f));
    cv::Mat1b most = cv::Mat1b::ones(5, 6);
    most(4, 5) = 0;
    EXPECT_LT(maxDifference(noisyLinearImputation(constant, most, 0, noNoise), constant), 1e-6);
}

TEST(Metrics, RoadImputationReproducesALinearRampAwayFromTheBorder) {
    // For f = a + b x + c y (+ d x y) the weighted mean of the 8 neighbours is f itself: the
    // weights sum to 1 and come in opposite pairs, so every odd moment (x, y, and x y, where the
    // diagonals cancel) vanishes. So f solves the system, which has one solution.
    cv::Mat3f ramp(20, 24);
    for (int y = 0; y < ramp.rows; ++y) {
        for (int x = 0; x < ramp.cols; ++x) {
            ramp(y, x) = cv::Vec3f(0.3f + 0.02f * x - 0.05f * y, -1.0f + 0.01f * x * y / 4.0f, 0.1f * y);
        }
    }
    cv::Mat1b block = cv::Mat1b::zeros(ramp.size());
    block(cv::Rect(3, 2, 17, 15)).setTo(1);
    EXPECT_LT(maxDifference(noisyLinearImputation(ramp, block, 0, cv::Scalar::all(0)), ramp), 1e-5);
    // Quadratic terms are not reproduced (the second moment is 2/3, not 0).
    cv::Mat3f bowl(20, 24);
    for (int y = 0; y < bowl.rows; ++y) {
        for (int x = 0; x < bowl.cols; ++x) bowl(y, x) = cv::Vec3f::all(0.01f * float((x - 12) * (x - 12)));
    }
    EXPECT_GT(maxDifference(noisyLinearImputation(bowl, block, 0, cv::Scalar::all(0)), bowl), 0.1);
    // At the border the renormalised weights are lopsided, so the ramp is not exact there:
    // that is the reference's choice, kept on purpose.
    cv::Mat1b leftEdge = cv::Mat1b::zeros(ramp.size());
    leftEdge(cv::Rect(0, 5, 4, 6)).setTo(1);
    EXPECT_GT(maxDifference(noisyLinearImputation(ramp, leftEdge, 0, cv::Scalar::all(0)), ramp), 1e-3);
}

TEST(Metrics, RoadImputationMatchesADenseSolve) {
    // 99 cells are solved directly; 30x34 with a large hole goes through the multigrid levels.
    for (const cv::Size size : {cv::Size(11, 9), cv::Size(34, 30)}) {
        const cv::Mat3f image = randomImage(size.height, size.width, 2);
        std::mt19937 generator(3);
        std::bernoulli_distribution coin(0.6);
        cv::Mat1b removed(size);
        for (auto& r : removed) r = coin(generator) ? 1 : 0;
        if (size.width > 20) removed(cv::Rect(4, 3, 20, 18)).setTo(1);
        removed(0, 0) = 1;                             // a corner and
        removed(size.height - 1, size.width - 1) = 0;  // at least one kept pixel
        const cv::Mat expected = denseImputation(image, removed);
        EXPECT_LT(maxDifference(noisyLinearImputation(image, removed, 0, cv::Scalar::all(0)), expected), 1e-5) << size;
    }
    // A large region with one kept pixel in the corner still has its unique solution: every
    // imputed value equals that pixel's.
    const cv::Mat3f image = randomImage(9, 11, 2);
    cv::Mat1b allButOne = cv::Mat1b::ones(9, 11);
    allButOne(8, 10) = 0;
    const cv::Mat3f filled = noisyLinearImputation(image, allButOne, 0, cv::Scalar::all(0));
    for (const cv::Vec3f& pixel : filled) {
        for (int c = 0; c < 3; ++c) EXPECT_NEAR(pixel[c], image(8, 10)[c], 1e-5);
    }
    EXPECT_THROW(noisyLinearImputation(image, cv::Mat1b::ones(9, 11), 0), Error);
    EXPECT_THROW(noisyLinearImputation(image, cv::Mat1b::ones(3, 3), 0), Error);
}

TEST(Metrics, RoadImputationNoiseHasTheRequestedSpreadAndSeed) {
    const cv::Mat3f flat(96, 96, cv::Vec3f(0.5f, 0.5f, 0.5f));
    cv::Mat1b removed = cv::Mat1b::zeros(flat.size());
    removed(cv::Rect(8, 8, 80, 80)).setTo(1);
    const cv::Mat3f noisy = noisyLinearImputation(flat, removed, 7);
    cv::Scalar mean, deviation;
    cv::meanStdDev(noisy - flat, mean, deviation, removed);
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(deviation[c], 0.01, 0.0005);  // 6400 samples: the estimate's sd is ~0.9%
        EXPECT_NEAR(mean[c], 0.0, 0.0005);
    }
    for (int y = 0; y < flat.rows; ++y) {
        for (int x = 0; x < flat.cols; ++x) {
            if (removed(y, x) == 0) {
                ASSERT_EQ(noisy(y, x), flat(y, x));
            }
        }
    }
    EXPECT_EQ(maxDifference(noisyLinearImputation(flat, removed, 7), noisy), 0.0);
    EXPECT_GT(maxDifference(noisyLinearImputation(flat, removed, 8), noisy), 0.0);
    // Per-channel spread: none on the first channel.
    const cv::Mat3f partial = noisyLinearImputation(flat, removed, 7, cv::Scalar(0.0, 0.02, 0.01));
    cv::meanStdDev(partial - flat, mean, deviation, removed);
    EXPECT_LT(deviation[0], 1e-6);
    EXPECT_NEAR(deviation[1], 0.02, 0.001);
}

TEST(Metrics, RoadMorfRemovesTheSalientPixelsFirstAndLerfTheOthers) {
    // A bright 4x4 square on black; the scorer reads the square's mean brightness.
    cv::Mat3f image(16, 16, cv::Vec3f(0, 0, 0));
    const cv::Rect square(6, 6, 4, 4);
    image(square).setTo(cv::Scalar::all(1.0));
    cv::Mat1f saliency(16, 16, 0.0f);
    saliency(square).setTo(1.0f);
    const ImageScorer brightness = [&](const cv::Mat& m) { return cv::mean(m(square))[0]; };
    const std::vector<double> percentages = {10, 30, 50};
    const RoadCurve morf = roadCurve(image, saliency, brightness, percentages, true, 1);
    const RoadCurve lerf = roadCurve(image, saliency, brightness, percentages, false, 1);
    EXPECT_EQ(morf.percent, percentages);
    ASSERT_EQ(morf.score.size(), 3u);
    for (const double score : morf.score) EXPECT_LT(std::abs(score), 0.2);  // filled from the black around it
    for (const double score : lerf.score) EXPECT_DOUBLE_EQ(score, 1.0);     // the square is never touched
    EXPECT_NEAR(morf.meanScore, (morf.score[0] + morf.score[1] + morf.score[2]) / 3.0, 1e-12);
    EXPECT_DOUBLE_EQ(lerf.meanScore, 1.0);
    // floor(p% of 256) pixels change (noise makes every removed pixel differ).
    const ImageScorer changed = [&](const cv::Mat& m) {
        return double(cv::countNonZero(cv::Mat(m != image).reshape(1, int(m.total())).col(0)));
    };
    EXPECT_EQ(roadCurve(image, saliency, changed, {0, 10, 50, 99}, true, 2).score,
              (std::vector<double>{0, 25, 128, 253}));
    // The same seed gives the same curve.
    EXPECT_EQ(roadCurve(image, saliency, brightness, percentages, true, 1).score, morf.score);
    EXPECT_THROW(roadCurve(image, saliency, brightness, {100}, true, 1), Error);
    EXPECT_THROW(roadCurve(image, saliency, brightness, {}, true, 1), Error);
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
