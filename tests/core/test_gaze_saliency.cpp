// Saliency metrics against the pysaliency test vectors (REFERENCES.md: a 40x40 Gaussian map and
// eight fixations on two images), and against plain-loop versions written here on random maps
// with ties (AUC-Judd's one-pass counting, CC, KLD, SIM, IG, the density map's splatting).
#include "core/gaze/saliency_metrics.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

using namespace fovea;

namespace {

// pysaliency's GaussianSaliencyMapModel on a 40x40 stimulus: exp(−0.5 r² / √(40² + 40²)).
cv::Mat1f gaussMap() {
    cv::Mat1f map(40, 40);
    for (int y = 0; y < 40; ++y) {
        for (int x = 0; x < 40; ++x)
            map(y, x) = float(std::exp(-0.5 * ((x - 20.0) * (x - 20.0) + (y - 20.0) * (y - 20.0)) / std::sqrt(3200.0)));
    }
    return map;
}

const std::vector<cv::Point2d> kImage0 = {{0, 10}, {1, 11}, {2, 12}, {2, 12}, {2, 12}};
const std::vector<cv::Point2d> kImage1 = {{1, 21}, {5, 25}, {3, 33}};

std::vector<cv::Point2d> allFixations() {
    std::vector<cv::Point2d> all = kImage0;
    all.insert(all.end(), kImage1.begin(), kImage1.end());
    return all;
}

// AUC-Judd by its definition, one threshold at a time over every pixel: TP = fixation weight at
// or above, FP = non-fixated pixels at or above; trapezoid with (0,0) and (1,1).
double plainJudd(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, bool collapse) {
    std::map<std::pair<int, int>, double> weight;
    for (const auto& p : fixations) weight[{int(p.y), int(p.x)}] += collapse ? 0.0 : 1.0;
    if (collapse) {
        for (auto& [pixel, w] : weight) w = 1.0;
    }
    double total = 0.0;
    std::vector<float> thresholds;
    for (const auto& [pixel, w] : weight) {
        total += w;
        thresholds.push_back(map(pixel.first, pixel.second));
    }
    std::sort(thresholds.begin(), thresholds.end(), std::greater<float>());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
    std::vector<double> tp{0.0}, fp{0.0};
    const double negatives = double(map.total()) - double(weight.size());
    for (const float t : thresholds) {
        double hits = 0.0, falseHits = 0.0;
        for (int r = 0; r < map.rows; ++r) {
            for (int c = 0; c < map.cols; ++c) {
                if (map(r, c) < t) continue;
                const auto found = weight.find({r, c});
                if (found != weight.end())
                    hits += found->second;
                else
                    falseHits += 1.0;
            }
        }
        tp.push_back(hits / total);
        fp.push_back(falseHits / negatives);
    }
    tp.push_back(1.0);
    fp.push_back(1.0);
    double area = 0.0;
    for (std::size_t i = 1; i < tp.size(); ++i) area += (fp[i] - fp[i - 1]) * (tp[i] + tp[i - 1]) / 2.0;
    return area;
}

// Mann-Whitney AUC (ties half) of positives against negatives.
double mannWhitney(const std::vector<float>& positives, const std::vector<float>& negatives) {
    double sum = 0.0;
    for (const float p : positives) {
        for (const float n : negatives) sum += p > n ? 1.0 : p == n ? 0.5 : 0.0;
    }
    return sum / (double(positives.size()) * double(negatives.size()));
}

cv::Mat1f randomMap(cv::Size size, unsigned seed, int levels = 0) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    cv::Mat1f map(size);
    for (float& v : map) v = levels > 0 ? std::floor(uniform(random) * float(levels)) / float(levels) : uniform(random);
    cv::GaussianBlur(map, map, cv::Size(0, 0), 3.0);  // structure, so metrics are not all near chance
    if (levels > 0) {
        for (float& v : map) v = std::round(v * 20.0f) / 20.0f;  // many ties
    }
    return map;
}

std::vector<cv::Point2d> randomFixations(cv::Size size, int count, unsigned seed) {
    std::mt19937 random(seed);
    std::vector<cv::Point2d> points;
    for (int i = 0; i < count; ++i) {
        points.emplace_back(std::uniform_real_distribution<double>(0.0, size.width - 1e-9)(random),
                            std::uniform_real_distribution<double>(0.0, size.height - 1e-9)(random));
    }
    points.push_back(points[0]);  // a repeat
    points.push_back(points[0]);
    return points;
}

}  // namespace

TEST(SaliencyMetrics, NssMatchesPysaliency) {
    const cv::Mat1f map = gaussMap();
    const std::vector<double> values = nssValues(map, allFixations());
    const double expected[] = {-0.821596, -0.789526, -0.740616, -0.740616, -0.740616, -0.707322, -0.433094, -0.800070};
    ASSERT_EQ(values.size(), 8u);
    for (std::size_t i = 0; i < 8; ++i) EXPECT_NEAR(values[i], expected[i], 1e-6) << "fixation " << i;
    EXPECT_NEAR(normalizedScanpathSaliency(map, allFixations()), -0.721682, 1e-6);
    const double perImage = (normalizedScanpathSaliency(map, kImage0) + normalizedScanpathSaliency(map, kImage1)) / 2.0;
    EXPECT_NEAR(perImage, -0.706712, 1e-6);
    // MATLAB's std divides by N − 1: values shrink by sqrt((N − 1) / N).
    const double sample = normalizedScanpathSaliency(map, allFixations(), StdConvention::Sample);
    EXPECT_NEAR(sample, -0.721682 * std::sqrt(1599.0 / 1600.0), 1e-6);
}

TEST(SaliencyMetrics, PerFixationAucMatchesPysaliency) {
    const std::vector<double> aucs = fixationAucs(gaussMap(), {{0, 10}, {1, 11}, {2, 12}, {1, 21}, {5, 25}, {3, 33}});
    const double expected[] = {0.099375, 0.158125, 0.241875, 0.291875, 0.509375, 0.138125};
    ASSERT_EQ(aucs.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(aucs[i], expected[i], 1e-6) << "fixation " << i;
}

TEST(SaliencyMetrics, AucJuddBothRepeatConventions) {
    const cv::Mat1f map = gaussMap();
    // Counting repeats, averaged over the two images.
    const double counting = (aucJudd(map, kImage0) + aucJudd(map, kImage1)) / 2.0;
    EXPECT_NEAR(counting, 0.4450428, 1e-7);
    // MIT: a binary fixation map, (2, 12) counts once.
    EXPECT_NEAR(aucJudd(map, kImage0, RepeatedFixations::Collapse), 0.314339, 1e-6);
    EXPECT_NEAR(aucJudd(map, kImage1, RepeatedFixations::Collapse), 0.453767, 1e-6);
    EXPECT_NEAR(aucJudd(map, kImage1, RepeatedFixations::Count), 0.453767, 1e-6);  // no repeats there
}

TEST(SaliencyMetrics, AucJuddAgreesWithPlainLoopOnMapsWithTies) {
    for (unsigned seed = 1; seed <= 4; ++seed) {
        const cv::Size size(83, 61);
        const cv::Mat1f map = randomMap(size, seed, seed % 2 == 0 ? 20 : 0);
        const std::vector<cv::Point2d> fixations = randomFixations(size, 30, seed + 100);
        EXPECT_NEAR(aucJudd(map, fixations), plainJudd(map, fixations, false), 1e-12) << "seed " << seed;
        EXPECT_NEAR(aucJudd(map, fixations, RepeatedFixations::Collapse), plainJudd(map, fixations, true), 1e-12)
            << "seed " << seed;
    }
    // Jitter breaks ties only: on a map whose values are 1 apart it changes nothing.
    cv::Mat1f ramp(40, 40);
    for (int i = 0; i < 1600; ++i) ramp(i) = float((i * 37) % 1600);
    EXPECT_DOUBLE_EQ(aucJudd(ramp, allFixations(), RepeatedFixations::Count, 1e-7, 3), aucJudd(ramp, allFixations()));
}

TEST(SaliencyMetrics, ConstantMapIsChance) {
    const cv::Mat1f constant(40, 40, 1.0f);
    EXPECT_DOUBLE_EQ(normalizedScanpathSaliency(constant, allFixations()), 0.0);
    EXPECT_DOUBLE_EQ(aucJudd(constant, allFixations()), 0.5);
    EXPECT_DOUBLE_EQ(aucJudd(constant, allFixations(), RepeatedFixations::Collapse), 0.5);
    EXPECT_DOUBLE_EQ(aucBorji(constant, allFixations()), 0.5);
    EXPECT_DOUBLE_EQ(aucShuffled(constant, kImage0, kImage1), 0.5);
    for (const double auc : fixationAucs(constant, allFixations())) EXPECT_DOUBLE_EQ(auc, 0.5);
}

TEST(SaliencyMetrics, SimAndKlAgainstConstant) {
    const cv::Mat1f gauss = gaussMap(), constant(40, 40, 1.0f);
    EXPECT_NEAR(similarity(gauss, constant), 0.54392, 1e-5);
    EXPECT_NEAR(klDivergence(gauss, constant), 0.8396273, 1e-6);  // KL(uniform ground truth ‖ gauss), nats
    EXPECT_NEAR(klDivergence(gauss, gauss), 0.0, 1e-6);
    EXPECT_NEAR(similarity(gauss, gauss), 1.0, 1e-6);
    // MIT's SIM min-max scales first; the constant map stays as it is.
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(gauss, &low, &high);
    double sumScaled = 0.0;
    for (const float v : gauss) sumScaled += (v - low) / (high - low);
    double expected = 0.0;
    for (const float v : gauss) expected += std::min((v - low) / (high - low) / sumScaled, 1.0 / 1600.0);
    EXPECT_NEAR(similarity(gauss, constant, SimConvention::Mit), expected, 1e-6);
}

TEST(SaliencyMetrics, MapAgainstMapMetricsAgreeWithPlainLoops) {
    const cv::Size size(97, 53);
    const cv::Mat1f p = randomMap(size, 11), q = randomMap(size, 12);
    const double n = double(size.area());
    double mp = 0, mq = 0, sp = 0, sq = 0;
    for (int i = 0; i < size.area(); ++i) {
        mp += p(i);
        mq += q(i);
        sp += p(i);
        sq += q(i);
    }
    mp /= n;
    mq /= n;
    double pq = 0, pp = 0, qq = 0, kl = 0, sim = 0;
    for (int i = 0; i < size.area(); ++i) {
        pq += (p(i) - mp) * (q(i) - mq);
        pp += (p(i) - mp) * (p(i) - mp);
        qq += (q(i) - mq) * (q(i) - mq);
        const double pi = p(i) / sp, qi = q(i) / sq;
        kl += qi * std::log(kSaliencyEpsilon + qi / (pi + kSaliencyEpsilon));
        sim += std::min(pi, qi);
    }
    EXPECT_NEAR(correlationCoefficient(p, q), pq / std::sqrt(pp * qq), 1e-6);
    EXPECT_NEAR(klDivergence(p, q), kl, 1e-6);
    EXPECT_NEAR(similarity(p, q), sim, 1e-6);
    EXPECT_NEAR(correlationCoefficient(p, p), 1.0, 1e-6);
    EXPECT_DOUBLE_EQ(correlationCoefficient(cv::Mat1f(size, 2.0f), q), 0.0);
    EXPECT_THROW(correlationCoefficient(p, cv::Mat1f(10, 10, 1.0f)), Error);
}

TEST(SaliencyMetrics, BorjiEstimatesTheMannWhitneyAuc) {
    // Levels 0, 0.15, ..., 0.85, 1 sit between the 0.1 thresholds, so each split's area is the
    // exact Mann-Whitney AUC against its draw, and the mean over draws estimates the AUC against
    // every pixel (pysaliency's per-fixation AUC, averaged).
    const float levels[] = {0.0f, 0.15f, 0.25f, 0.35f, 0.45f, 0.55f, 0.65f, 0.75f, 0.85f, 1.0f};
    cv::Mat1f map(60, 80);
    std::mt19937 random(5);
    for (int r = 0; r < 60; ++r) {
        for (int c = 0; c < 80; ++c)
            map(r, c) = levels[std::min(9, int((c + std::uniform_int_distribution<int>(0, 30)(random)) / 11))];
    }
    const std::vector<cv::Point2d> fixations = randomFixations(map.size(), 40, 9);
    const std::vector<double> aucs = fixationAucs(map, fixations);
    const double expected = std::accumulate(aucs.begin(), aucs.end(), 0.0) / double(aucs.size());
    EXPECT_NEAR(aucBorji(map, fixations, 3000, 0.1, 1), expected, 0.01);
    // Shuffled AUC with a pool no larger than the fixations takes the whole pool every time.
    const std::vector<cv::Point2d> others = {{3, 4}, {70, 50}, {40, 30}, {10, 55}, {79, 1}};
    std::vector<float> positives, negatives;
    for (const auto& p : fixations) positives.push_back(map(int(p.y), int(p.x)));
    for (const auto& p : others) negatives.push_back(map(int(p.y), int(p.x)));
    EXPECT_NEAR(aucShuffled(map, fixations, others, 7, 0.1, 2), mannWhitney(positives, negatives), 1e-12);
}

TEST(SaliencyMetrics, InformationGain) {
    const cv::Size size(64, 48);
    const cv::Mat1f baseline = centreBiasMap(size);
    const std::vector<cv::Point2d> fixations = {{10, 10}, {12, 9}, {50, 40}, {32, 24}};
    EXPECT_NEAR(informationGain(baseline, baseline, fixations), 0.0, 1e-12);
    const cv::Mat1f map = randomMap(size, 21);
    double lowP = 0, highP = 0, lowB = 0, highB = 0;
    cv::minMaxLoc(map, &lowP, &highP);
    cv::minMaxLoc(baseline, &lowB, &highB);
    double sumP = 0, sumB = 0;
    for (int i = 0; i < size.area(); ++i) {
        sumP += (map(i) - lowP) / (highP - lowP);
        sumB += (baseline(i) - lowB) / (highB - lowB);
    }
    double expected = 0;
    for (const auto& f : fixations) {
        const double pi = (map(int(f.y), int(f.x)) - lowP) / (highP - lowP) / sumP;
        const double bi = (baseline(int(f.y), int(f.x)) - lowB) / (highB - lowB) / sumB;
        expected += std::log2(kSaliencyEpsilon + pi) - std::log2(kSaliencyEpsilon + bi);
    }
    EXPECT_NEAR(informationGain(map, baseline, fixations), expected / 4.0, 1e-6);  // sums run in float over 64 pixels
    // The fixations' own density beats the centre prior on off-centre fixations.
    EXPECT_GT(informationGain(fixationDensityMap(size, fixations, 3.0), baseline, fixations), 1.0);
}

TEST(SaliencyMetrics, DensityMapEqualsGaussianBlurOfFixationCounts) {
    const cv::Size size(90, 70);
    const double sigma = 4.5;
    const std::vector<cv::Point2d> fixations = {{0.2, 0.7}, {45.5, 30.1}, {45.9, 30.8}, {88.0, 69.0}, {20, 60}};
    const cv::Mat1f density = fixationDensityMap(size, fixations, sigma);
    cv::Mat1f counts(size, 0.0f);
    for (const auto& f : fixations) counts(int(f.y), int(f.x)) += 1.0f;
    const int radius = int(std::ceil(4.0 * sigma));
    cv::Mat1f blurred;
    cv::GaussianBlur(counts, blurred, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, cv::BORDER_CONSTANT);
    double kernelSum = 0.0;
    for (int d = -radius; d <= radius; ++d) kernelSum += std::exp(-0.5 * d * d / (sigma * sigma));
    double worst = 0.0;
    for (int i = 0; i < size.area(); ++i)
        worst = std::max(worst, std::abs(density(i) - blurred(i) * kernelSum * kernelSum));
    EXPECT_LT(worst, 1e-4);
    EXPECT_NEAR(density(30, 45), 2.0, 1e-6);  // two fixations on that pixel, peak 1 each
    EXPECT_THROW(fixationDensityMap(size, {{90.0, 3.0}}, 2.0), Error);
}

TEST(SaliencyMetrics, ScoresAllAndRejectsFixationsOutside) {
    const cv::Mat1f map = gaussMap();
    SaliencyOptions options;
    options.sigma = 3.0;
    const SaliencyScores scores = scoreSaliency(map, kImage0, options, {}, {}, kImage1);
    EXPECT_NEAR(scores.aucJudd, aucJudd(map, kImage0), 1e-12);
    EXPECT_NEAR(scores.nss, normalizedScanpathSaliency(map, kImage0), 1e-12);
    EXPECT_NEAR(scores.cc, correlationCoefficient(map, fixationDensityMap(map.size(), kImage0, 3.0)), 1e-12);
    EXPECT_FALSE(std::isnan(scores.aucShuffled));
    EXPECT_EQ(scores.fixations, 5);
    EXPECT_EQ(saliencyMetricNames().size(), saliencyMetricValues(scores).size());
    EXPECT_THROW(normalizedScanpathSaliency(map, {{40.0, 3.0}}), Error);
    EXPECT_THROW(aucJudd(map, {{-0.5, 3.0}}), Error);
    EXPECT_NEAR(pixelsPerDegree(1000.0, 10.0, 0.5 / std::tan(0.5 * M_PI / 180.0)), 100.0, 1e-9);
}
