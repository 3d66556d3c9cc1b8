// Scanpath metrics against brute-force versions written here (every alignment, warping path or
// coupling enumerated by plain recursion), hand-computed ScanMatch and sequence scores, mean-shift
// on planted clusters, and scanpath synthesis on maps whose right order is known.
#include "core/gaze/scanpath_figure.h"
#include "core/gaze/scanpath_metrics.h"
#include "core/gaze/scanpath_synthesis.h"
#include "core/image/colormap.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

using namespace fovea;

namespace {

Scanpath pathOf(const std::vector<cv::Point2d>& points, double duration = 0.2) {
    Scanpath path;
    for (const auto& p : points) {
        Fixation f;
        f.x = p.x;
        f.y = p.y;
        f.duration = duration;
        path.fixations.push_back(f);
    }
    setStartsFromDurations(path);
    return path;
}

std::vector<cv::Point2d> randomPoints(std::mt19937& random, int count) {
    std::uniform_real_distribution<double> coordinate(0, 100);
    std::vector<cv::Point2d> points;
    for (int i = 0; i < count; ++i) points.emplace_back(coordinate(random), coordinate(random));
    return points;
}

double distance(cv::Point2d a, cv::Point2d b) {
    return std::hypot(a.x - b.x, a.y - b.y);
}

// Every alignment of two sequences, by recursion over the first step.
double bruteAlignment(const std::vector<int>& a, const std::vector<int>& b, std::size_t i, std::size_t j,
                      const std::function<double(int, int)>& substitution, double gap) {
    if (i == a.size() && j == b.size()) return 0.0;
    double best = -std::numeric_limits<double>::infinity();
    if (i < a.size() && j < b.size())
        best = std::max(best, substitution(a[i], b[j]) + bruteAlignment(a, b, i + 1, j + 1, substitution, gap));
    if (i < a.size()) best = std::max(best, gap + bruteAlignment(a, b, i + 1, j, substitution, gap));
    if (j < b.size()) best = std::max(best, gap + bruteAlignment(a, b, i, j + 1, substitution, gap));
    return best;
}

// Two blobs of different heights on a 60x80 map.
cv::Mat1f blobMap(cv::Point first, float firstHeight, cv::Point second, float secondHeight) {
    cv::Mat1f map(60, 80, 0.0f);
    for (int r = 0; r < 60; ++r) {
        for (int c = 0; c < 80; ++c) {
            const double d1 = (c - first.x) * (c - first.x) + (r - first.y) * (r - first.y);
            const double d2 = (c - second.x) * (c - second.x) + (r - second.y) * (r - second.y);
            map(r, c) = float(firstHeight * std::exp(-d1 / 18.0) + secondHeight * std::exp(-d2 / 18.0));
        }
    }
    return map;
}

}  // namespace

TEST(ScanpathMetrics, NeedlemanWunschAndLevenshteinAgreeWithEveryAlignment) {
    std::mt19937 random(4);
    for (int trial = 0; trial < 30; ++trial) {
        std::vector<int> a(std::size_t(1 + trial % 5)), b(std::size_t(1 + (trial / 5) % 6));
        for (int& v : a) v = int(random() % 4);
        for (int& v : b) v = int(random() % 4);
        const auto substitution = [](int x, int y) { return x == y ? 2.0 : -1.0 + 0.25 * std::abs(x - y); };
        EXPECT_DOUBLE_EQ(needlemanWunsch(a, b, substitution, -0.5), bruteAlignment(a, b, 0, 0, substitution, -0.5));
        // Levenshtein = −(best alignment with match 0, mismatch −1, gap −1).
        const auto unit = [](int x, int y) { return x == y ? 0.0 : -1.0; };
        EXPECT_EQ(levenshteinDistance(a, b), int(-bruteAlignment(a, b, 0, 0, unit, -1.0)));
    }
    EXPECT_EQ(levenshteinDistance({1, 2, 3}, {}), 3);
}

TEST(ScanpathMetrics, StringEditDistanceOnGridCells) {
    const cv::Size2d screen(500, 500);                              // 5x5 cells of 100 px
    const Scanpath a = pathOf({{50, 50}, {150, 50}, {250, 250}});   // cells 0, 1, 12
    const Scanpath b = pathOf({{60, 40}, {250, 250}, {450, 450}});  // cells 0, 12, 24
    EXPECT_EQ(gridCell({150, 50}, screen, 5, 5), 1);
    EXPECT_EQ(gridCell({250, 250}, screen, 5, 5), 12);
    EXPECT_EQ(gridCell({-3, 999}, screen, 5, 5), 20);  // clamped to the edge
    EXPECT_EQ(stringEditDistance(a, b, screen), 2);    // delete 1, insert 24
    EXPECT_EQ(stringEditDistance(a, a, screen), 0);
}

TEST(ScanpathMetrics, ScanMatchByHand) {
    ScanMatchOptions options;
    options.screen = {200, 100};
    options.columns = 2;
    options.rows = 1;
    // maxD = 1: S(same cell) = 1 + 2.5 = 3.5, S(other) = 0 + 2.5.
    const auto substitution = scanMatchSubstitution(options);
    EXPECT_DOUBLE_EQ(substitution[0][0], 3.5);
    EXPECT_DOUBLE_EQ(substitution[0][1], 2.5);
    const Scanpath a = pathOf({{50, 50}, {150, 50}}), b = pathOf({{150, 50}, {150, 50}});
    EXPECT_NEAR(scanMatch(a, b, options), (2.5 + 3.5) / (3.5 * 2), 1e-12);
    EXPECT_NEAR(scanMatch(a, a, options), 1.0, 1e-12);
    // Temporal binning: 0.25 s and 0.1 s at 0.05 s bins are 5 and 2 letters.
    Scanpath timed = pathOf({{50, 50}, {150, 50}});
    timed.fixations[0].duration = 0.25;
    timed.fixations[1].duration = 0.1;
    Scanpath same = pathOf({{50, 50}});
    same.fixations[0].duration = 0.25;
    options.temporalBin = 0.05;
    EXPECT_NEAR(scanMatch(timed, same, options), 5 * 3.5 / (3.5 * 7), 1e-12);
    // The default 12x8 grid: a path against itself.
    const Scanpath long1 = pathOf({{10, 10}, {600, 300}, {1200, 700}, {640, 360}});
    EXPECT_NEAR(scanMatch(long1, long1), 1.0, 1e-12);
    EXPECT_LT(scanMatch(long1, pathOf({{1200, 10}, {10, 700}, {640, 10}, {100, 360}})), 0.9);
}

TEST(ScanpathMetrics, DtwAndFrechetAgreeWithEveryPath) {
    std::mt19937 random(8);
    for (int trial = 0; trial < 20; ++trial) {
        const std::vector<cv::Point2d> a = randomPoints(random, 1 + trial % 5),
                                       b = randomPoints(random, 1 + (trial / 5) % 5);
        std::function<double(std::size_t, std::size_t)> warp = [&](std::size_t i, std::size_t j) -> double {
            const double here = distance(a[i], b[j]);
            if (i + 1 == a.size() && j + 1 == b.size()) return here;
            double best = std::numeric_limits<double>::infinity();
            if (i + 1 < a.size()) best = std::min(best, warp(i + 1, j));
            if (j + 1 < b.size()) best = std::min(best, warp(i, j + 1));
            if (i + 1 < a.size() && j + 1 < b.size()) best = std::min(best, warp(i + 1, j + 1));
            return here + best;
        };
        std::function<double(std::size_t, std::size_t)> couple = [&](std::size_t i, std::size_t j) -> double {
            const double here = distance(a[i], b[j]);
            if (i + 1 == a.size() && j + 1 == b.size()) return here;
            double best = std::numeric_limits<double>::infinity();
            if (i + 1 < a.size()) best = std::min(best, couple(i + 1, j));
            if (j + 1 < b.size()) best = std::min(best, couple(i, j + 1));
            if (i + 1 < a.size() && j + 1 < b.size()) best = std::min(best, couple(i + 1, j + 1));
            return std::max(here, best);
        };
        EXPECT_NEAR(dynamicTimeWarping(a, b), warp(0, 0), 1e-9) << "trial " << trial;
        EXPECT_NEAR(discreteFrechetDistance(a, b), couple(0, 0), 1e-9) << "trial " << trial;
    }
    EXPECT_TRUE(std::isnan(dynamicTimeWarping({}, {{1, 2}})));
}

TEST(ScanpathMetrics, MeanShiftFindsPlantedClustersAndSequenceScore) {
    std::mt19937 random(2);
    std::normal_distribution<double> noise(0.0, 3.0);
    const cv::Point2d centres[] = {{100, 100}, {300, 120}, {200, 300}};
    std::vector<cv::Point2d> points;
    for (const auto& c : centres) {
        for (int i = 0; i < 15; ++i) points.emplace_back(c.x + noise(random), c.y + noise(random));
    }
    const FixationClusters clusters = meanShiftClusters(points, 30.0);
    ASSERT_EQ(clusters.centres.size(), 3u);
    for (const auto& c : centres) {
        const int label = clusters.labelOf(c);
        EXPECT_LT(distance(clusters.centres[std::size_t(label)], c), 3.0);
    }
    // Strings [A, B, C] and [A, C]: the longest common subsequence has 2 letters, of 3.
    const Scanpath a = pathOf({centres[0], centres[1], centres[2]}), b = pathOf({centres[0], centres[2]});
    EXPECT_NEAR(sequenceScore(a, b, clusters), 2.0 / 3.0, 1e-12);
    EXPECT_NEAR(sequenceScore(a, a, clusters), 1.0, 1e-12);
    EXPECT_THROW(sequenceScore(a, b, FixationClusters{}), Error);
}

TEST(ScanpathSynthesis, WinnerTakeAllVisitsPeaksInOrderOfHeight) {
    const cv::Mat1f map = blobMap({20, 15}, 0.6f, {60, 40}, 1.0f);
    WtaOptions options;
    options.fixations = 2;
    options.radius = 12;
    const Scanpath path = synthesizeScanpath(map, options);
    ASSERT_EQ(path.fixations.size(), 2u);
    EXPECT_DOUBLE_EQ(path.fixations[0].x, 60.5);  // pixel centres
    EXPECT_DOUBLE_EQ(path.fixations[0].y, 40.5);
    EXPECT_DOUBLE_EQ(path.fixations[1].x, 20.5);
    EXPECT_DOUBLE_EQ(path.fixations[1].y, 15.5);
    // Durations from the local saliency: the higher blob holds the eye longer.
    EXPECT_GT(path.fixations[0].duration, path.fixations[1].duration);
    EXPECT_GE(path.fixations[1].duration, options.minDuration);
    EXPECT_LE(path.fixations[0].duration, options.maxDuration);
    EXPECT_DOUBLE_EQ(path.fixations[1].start, path.fixations[0].duration);

    // Permanent inhibition never returns; the third fixation lands off both blobs.
    options.fixations = 3;
    const Scanpath three = synthesizeScanpath(map, options);
    ASSERT_EQ(three.fixations.size(), 3u);
    EXPECT_GT(distance({three.fixations[2].x, three.fixations[2].y}, {60.5, 40.5}), 12.0);
    EXPECT_GT(distance({three.fixations[2].x, three.fixations[2].y}, {20.5, 15.5}), 12.0);
    // With full decay only the last fixation is inhibited: the eye alternates between the peaks.
    options.fixations = 4;
    options.decay = 1.0;
    const Scanpath alternating = synthesizeScanpath(map, options);
    ASSERT_EQ(alternating.fixations.size(), 4u);
    EXPECT_DOUBLE_EQ(alternating.fixations[2].x, 60.5);
    EXPECT_DOUBLE_EQ(alternating.fixations[3].x, 20.5);
    // Gaussian inhibition: the same two peaks first.
    options.decay = 0.0;
    options.inhibition = Inhibition::Gaussian;
    options.radius = 24;
    const Scanpath gaussian = synthesizeScanpath(map, options);
    EXPECT_DOUBLE_EQ(gaussian.fixations[0].x, 60.5);
    EXPECT_DOUBLE_EQ(gaussian.fixations[1].x, 20.5);
}

TEST(ScanpathSynthesis, StopsWhenNothingIsLeft) {
    cv::Mat1f spike(30, 30, 0.0f);
    spike(10, 5) = 1.0f;
    WtaOptions options;
    options.fixations = 5;
    const Scanpath path = synthesizeScanpath(spike, options);
    ASSERT_EQ(path.fixations.size(), 1u);
    EXPECT_DOUBLE_EQ(path.fixations[0].x, 5.5);
    EXPECT_THROW(synthesizeScanpath(cv::Mat1f(), options), Error);
}

TEST(ScanpathSynthesis, ObjectLevelOrdersByAttentionMass) {
    cv::Mat1i labels(40, 60, 0);
    labels(cv::Rect(2, 2, 10, 10)).setTo(1);   // small, bright
    labels(cv::Rect(20, 5, 30, 20)).setTo(2);  // large, dim
    labels(cv::Rect(5, 30, 8, 8)).setTo(3);    // no attention at all
    cv::Mat1f map(40, 60, 0.0f);
    map(cv::Rect(2, 2, 10, 10)).setTo(1.0f);    // mass 100
    map(cv::Rect(20, 5, 30, 20)).setTo(0.25f);  // mass 150
    map(7, 40) = 5.0f;                          // pulls object 2's centroid right
    const Scanpath path = synthesizeObjectScanpath(map, labels);
    ASSERT_EQ(path.fixations.size(), 2u);  // object 3 has no mass
    EXPECT_EQ(path.fixations[0].object, 1);
    EXPECT_EQ(path.fixations[1].object, 0);
    // The attention-weighted centroid, by a plain sum over object 2's pixels.
    double mass = 0, cx = 0, cy = 0;
    for (int r = 5; r < 25; ++r) {
        for (int c = 20; c < 50; ++c) {
            mass += map(r, c);
            cx += (c + 0.5) * map(r, c);
            cy += (r + 0.5) * map(r, c);
        }
    }
    EXPECT_NEAR(path.fixations[0].x, cx / mass, 1e-9);
    EXPECT_NEAR(path.fixations[0].y, cy / mass, 1e-9);
    EXPECT_NEAR(path.fixations[1].x, 7.0, 1e-9);
    EXPECT_DOUBLE_EQ(path.fixations[0].duration, 0.5);
    EXPECT_NEAR(path.fixations[1].duration, 0.1 + 0.4 * 100.0 / mass, 1e-9);

    // The same objects as boxes (pixel centres inside each box).
    const std::vector<cv::Rect2d> boxes = {{2, 2, 10, 10}, {20, 5, 30, 20}, {5, 30, 8, 8}};
    const Scanpath fromBoxes = synthesizeObjectScanpath(map, boxes);
    ASSERT_EQ(fromBoxes.fixations.size(), 2u);
    EXPECT_EQ(fromBoxes.fixations[0].object, 1);
    EXPECT_NEAR(fromBoxes.fixations[0].x, cx / mass, 1e-9);
    ObjectScanpathOptions one;
    one.fixations = 1;
    EXPECT_EQ(synthesizeObjectScanpath(map, labels, one).fixations.size(), 1u);
    // By mean attention the small bright object (1.0 per pixel) comes before the large dim one.
    ObjectScanpathOptions mean;
    mean.ranking = ObjectRanking::MeanAttention;
    const Scanpath byMean = synthesizeObjectScanpath(map, labels, mean);
    ASSERT_EQ(byMean.fixations.size(), 2u);
    EXPECT_EQ(byMean.fixations[0].object, 0);
    EXPECT_NEAR(byMean.fixations[1].duration, 0.1 + 0.4 * (mass / 600.0) / 1.0, 1e-9);
    EXPECT_EQ(synthesizeObjectScanpath(map, boxes, mean).fixations[0].object, 0);
}

TEST(ScanpathSynthesis, FixationsToTarget) {
    cv::Mat1b target(50, 50, uchar(0));
    target(cv::Rect(30, 30, 10, 10)).setTo(255);
    const Scanpath path = pathOf({{5, 5}, {27.5, 35}, {35, 35}});
    EXPECT_EQ(fixationsToTarget(path, target), 3);
    EXPECT_EQ(fixationsToTarget(path, target, 3.0), 2);  // (27, 35) is 3 px left of the box
    EXPECT_EQ(fixationsToTarget(pathOf({{1, 1}}), target), 0);
}

TEST(ScanpathFigure, LayoutSizesCirclesByDurationAndShortensArrows) {
    Scanpath path = pathOf({{10, 10}, {110, 10}});
    path.fixations[0].duration = 0.1;
    path.fixations[1].duration = 0.4;
    setStartsFromDurations(path);
    ScanpathStyle style;
    style.minRadius = 2;
    style.maxRadius = 10;
    style.colouring = ScanpathColouring::Subject;
    style.colourIndices = {3};
    const ScanpathLayout layout = layoutScanpaths({path}, {200, 100}, style);
    ASSERT_EQ(layout.marks.size(), 2u);
    EXPECT_DOUBLE_EQ(layout.marks[1].radius, 10.0);                         // the longest fixation
    EXPECT_DOUBLE_EQ(layout.marks[0].radius, 2.0 + 8.0 * std::sqrt(0.25));  // area proportional to duration
    EXPECT_EQ(layout.marks[0].rgb, subjectColour(3));
    EXPECT_EQ(layout.marks[1].number, 2);
    ASSERT_EQ(layout.arrows.size(), 1u);
    EXPECT_DOUBLE_EQ(layout.arrows[0].from.x, 16.0);  // from the first circle's edge
    EXPECT_DOUBLE_EQ(layout.arrows[0].to.x, 100.0);   // to the second's
    // Playback: only what started by then.
    style.upToTime = 0.05;
    const ScanpathLayout early = layoutScanpaths({path}, {200, 100}, style);
    EXPECT_EQ(early.marks.size(), 1u);
    EXPECT_TRUE(early.arrows.empty());
    // Time colours run from the colormap's start to its end over the viewing time.
    style.upToTime = 1.0;
    style.colouring = ScanpathColouring::Time;
    const ScanpathLayout timed = layoutScanpaths({path}, {200, 100}, style);
    EXPECT_EQ(timed.marks[0].rgb, colormapColor("plasma", colormapIndex(0.05 / 0.5, 0.0, 1.0)));
    EXPECT_EQ(timed.marks[1].rgb, colormapColor("plasma", colormapIndex(0.3 / 0.5, 0.0, 1.0)));
    // The PNG figure is enlarged to at least minSide and keeps the aspect ratio.
    const cv::Mat figure = renderScanpathFigure(cv::Mat(100, 200, CV_8UC3, cv::Scalar(255, 255, 255)), {path}, style);
    EXPECT_EQ(figure.cols, 600);
    EXPECT_EQ(figure.rows, 300);
    EXPECT_NE(scanpathFigureSvg(cv::Mat(100, 200, CV_8UC3, cv::Scalar(0, 0, 0)), {path}, style).find("<circle"),
              std::string::npos);
}
