// MultiMatch against the reference values of the MATLAB toolbox and multimatch_gaze on that
// package's two test scanpaths (read from ../shared, never copied into the repository), plus
// cases whose answer follows from the definition and a brute-force check of the alignment.
#include "core/gaze/gaze_io.h"
#include "core/gaze/multimatch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>

using namespace fovea;

namespace {

const std::string kMultiMatch = std::string(FOVEA_SHARED_DIR) + "/fixtures/multimatch/";

Scanpath pathOf(const std::vector<std::array<double, 3>>& rows) {
    Scanpath path;
    for (const auto& [x, y, duration] : rows) {
        Fixation f;
        f.x = x;
        f.y = y;
        f.duration = duration;
        path.fixations.push_back(f);
    }
    setStartsFromDurations(path);
    return path;
}

void expectVector(const MultiMatchResult& result, const std::array<double, 5>& expected, double tolerance) {
    ASSERT_TRUE(result.valid);
    const std::array<double, 5> values = result.values();
    const char* names[] = {"vector", "direction", "length", "position", "duration"};
    for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(values[i], expected[i], tolerance) << names[i];
}

}  // namespace

TEST(MultiMatch, ReferenceValuesOnThePackageTestFiles) {
    const std::string first = kMultiMatch + "segment_10_sub-19.tsv", second = kMultiMatch + "segment_10_sub-01.tsv";
    if (!std::filesystem::exists(first) || !std::filesystem::exists(second)) {
        GTEST_SKIP() << "MultiMatch reference files not found in " << kMultiMatch
                     << " (they are not shipped with Fovea)";
    }
    const Scanpath a = readScanpath(first), b = readScanpath(second);
    MultiMatchOptions options;
    options.screen = {1280, 720};
    expectVector(multiMatch(a, b, options), {0.99082, 0.69902, 0.98927, 0.94767, 0.65563}, 1e-4);
    options.grouping = true;
    options.directionThreshold = 45.0;
    options.durationThreshold = 0.3;
    options.amplitudeThreshold = 146.8;
    expectVector(multiMatch(a, b, options), {0.95076, 0.95638, 0.94082, 0.94491, 0.78261}, 1e-4);
}

TEST(MultiMatch, IdenticalPathsScoreOne) {
    const Scanpath path = pathOf({{100, 100, 0.2}, {400, 120, 0.3}, {420, 500, 0.25}, {90, 480, 0.4}});
    expectVector(multiMatch(path, path), {1, 1, 1, 1, 1}, 1e-12);
    MultiMatchOptions grouping;
    grouping.grouping = true;
    grouping.directionThreshold = 30;
    grouping.durationThreshold = 0.35;
    grouping.amplitudeThreshold = 100;
    expectVector(multiMatch(path, path, grouping), {1, 1, 1, 1, 1}, 1e-12);
}

TEST(MultiMatch, TranslatedPathDiffersOnlyInPosition) {
    const Scanpath a = pathOf({{100, 100, 0.2}, {400, 120, 0.3}, {420, 500, 0.25}, {90, 480, 0.4}});
    Scanpath b = a;
    for (Fixation& f : b.fixations) {
        f.x += 30;
        f.y -= 40;
    }
    MultiMatchOptions options;
    options.screen = {1280, 720};
    const double diagonal = std::hypot(1280.0, 720.0);
    expectVector(multiMatch(a, b, options), {1, 1, 1, 1 - 50.0 / diagonal, 1}, 1e-12);
    // Durations halved: |d − d/2| / d = 0.5 for every pair.
    Scanpath c = a;
    for (Fixation& f : c.fixations) f.duration /= 2;
    EXPECT_NEAR(multiMatch(a, c, options).duration, 0.5, 1e-12);
    // The reversed path: every saccade points the other way.
    Scanpath reversed = pathOf({{200, 300, 0.2}, {500, 300, 0.2}, {800, 300, 0.2}});
    Scanpath back = pathOf({{800, 300, 0.2}, {500, 300, 0.2}, {200, 300, 0.2}});
    EXPECT_NEAR(multiMatch(reversed, back, options).direction, 0.0, 1e-12);
}

TEST(MultiMatch, TooShortPathsGiveNaN) {
    const Scanpath two = pathOf({{1, 2, 0.1}, {3, 4, 0.1}});
    const Scanpath three = pathOf({{1, 2, 0.1}, {3, 4, 0.1}, {5, 9, 0.2}});
    const MultiMatchResult result = multiMatch(two, three);
    EXPECT_FALSE(result.valid);
    for (const double v : result.values()) EXPECT_TRUE(std::isnan(v));
}

TEST(MultiMatch, SimplificationMergesCollinearSaccadesAcrossShortFixations) {
    // Three rightward saccades with short fixations between: direction grouping merges pairs.
    const Scanpath path = pathOf({{0, 0, 0.5}, {100, 0, 0.05}, {200, 2, 0.05}, {300, 0, 0.05}, {300, 400, 0.5}});
    MultiMatchOptions options;
    options.grouping = true;
    options.directionThreshold = 10.0;
    options.durationThreshold = 0.1;
    options.amplitudeThreshold = 0.0;  // no length grouping
    const SaccadeVectors simplified = simplifySaccades(saccadeVectors(path), options);
    // First pass: (0→100) + (100→200) merge, (200→300) stays, the upward one stays; second pass:
    // (0→200) + (200→300) merge; the upward saccade turns 90° and is kept.
    ASSERT_EQ(simplified.size(), 2u);
    EXPECT_DOUBLE_EQ(simplified.dx[0], 300.0);
    EXPECT_DOUBLE_EQ(simplified.dy[0], 0.0);
    EXPECT_DOUBLE_EQ(simplified.dx[1], 0.0);
    EXPECT_DOUBLE_EQ(simplified.dy[1], 400.0);
    EXPECT_DOUBLE_EQ(simplified.x[1], 300.0);
    EXPECT_DOUBLE_EQ(simplified.durations[0], 0.5);
}

TEST(MultiMatch, AlignmentIsTheCheapestMonotonePath) {
    std::mt19937 random(3);
    std::uniform_real_distribution<double> coordinate(0, 500);
    for (int trial = 0; trial < 20; ++trial) {
        const int n = 2 + trial % 4, m = 2 + (trial / 4) % 4;
        SaccadeVectors a, b;
        for (int i = 0; i < n; ++i) {
            a.dx.push_back(coordinate(random));
            a.dy.push_back(coordinate(random));
        }
        for (int j = 0; j < m; ++j) {
            b.dx.push_back(coordinate(random));
            b.dy.push_back(coordinate(random));
        }
        const auto weight = [&](int i, int j) {
            return std::hypot(a.dx[std::size_t(i)] - b.dx[std::size_t(j)], a.dy[std::size_t(i)] - b.dy[std::size_t(j)]);
        };
        // Every path of right / down / diagonal steps from (0,0) to (n−1, m−1), by recursion.
        std::function<double(int, int)> cheapest = [&](int i, int j) -> double {
            if (i == n - 1 && j == m - 1) return 0.0;
            double best = std::numeric_limits<double>::infinity();
            if (i + 1 < n) best = std::min(best, weight(i + 1, j) + cheapest(i + 1, j));
            if (j + 1 < m) best = std::min(best, weight(i, j + 1) + cheapest(i, j + 1));
            if (i + 1 < n && j + 1 < m) best = std::min(best, weight(i + 1, j + 1) + cheapest(i + 1, j + 1));
            return best;
        };
        const std::vector<std::pair<int, int>> path = alignSaccades(a, b);
        ASSERT_EQ(path.front(), std::make_pair(0, 0));
        ASSERT_EQ(path.back(), std::make_pair(n - 1, m - 1));
        double cost = 0.0;
        for (std::size_t k = 1; k < path.size(); ++k) {
            const int di = path[k].first - path[k - 1].first, dj = path[k].second - path[k - 1].second;
            ASSERT_TRUE((di == 0 || di == 1) && (dj == 0 || dj == 1) && di + dj > 0);
            cost += weight(path[k].first, path[k].second);
        }
        EXPECT_NEAR(cost, cheapest(0, 0), 1e-9) << "trial " << trial;
    }
}
