// fovea eval's pieces: confidence intervals, a small run on the fixture model, the tables.
#include "core/explain/evaluate.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace fovea;

namespace {

TEST(Evaluate, MeanWithConfidenceInterval) {
    const MeanCI ci = meanWithCI({1.0, 2.0, 3.0, 4.0, std::nan("")});
    EXPECT_EQ(ci.count, 4);
    EXPECT_DOUBLE_EQ(ci.mean, 2.5);
    // sample sd = sqrt(5/3); half width = 1.96 sd / sqrt(4)
    EXPECT_NEAR(ci.halfWidth, 1.96 * std::sqrt(5.0 / 3.0) / 2.0, 1e-12);
    EXPECT_EQ(meanWithCI({}).count, 0);
}

TEST(Evaluate, SmallRunOnTheFixtureModel) {
    const std::unique_ptr<Model> model = openModel(std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny");
    EvalOptions options;
    options.methods = {"raw", "chefer"};
    options.scenes = 3;
    options.pixelsPerStep = 256;
    options.scene.targetMinSize = 12;
    options.scene.targetMaxSize = 16;
    options.scene.distractorMinSize = 4;
    options.scene.distractorMaxSize = 6;
    NullProgress progress;
    int rowsSeen = 0;
    const std::vector<EvalRow> rows = evaluateMethods(*model, options, progress, [&](const EvalRow&) { ++rowsSeen; });
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rowsSeen, 2);
    for (const EvalRow& row : rows) {
        EXPECT_EQ(row.pointingStrict.count, 3);
        EXPECT_GE(row.energy.mean, 0.0);
        EXPECT_LE(row.energy.mean, 1.0);
        EXPECT_GE(row.deletion.mean, 0.0);
        EXPECT_LE(row.deletion.mean, 1.0);
        EXPECT_GE(row.insertion.mean, 0.0);
        EXPECT_LE(row.insertion.mean, 1.0);
        EXPECT_GT(row.msPerImage, 0.0);
    }
    const std::string csv = leaderboardCsv(rows);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
    EXPECT_NE(csv.find("chefer,3,"), std::string::npos);
    const std::string markdown = leaderboardMarkdown(rows, "timm-vit-tiny", options);
    EXPECT_NE(markdown.find("| raw |"), std::string::npos);
    // The plot: one bar per method and metric.
    const std::string svg = leaderboardSvg(rows);
    std::size_t bars = 0;
    for (std::size_t at = svg.find("class=\"bar\""); at != std::string::npos; at = svg.find("class=\"bar\"", at + 1)) ++bars;
    EXPECT_EQ(bars, 2u * 4u);
    EXPECT_NE(svg.find("chefer"), std::string::npos);
    const cv::Mat png = leaderboardPlot(rows);
    EXPECT_EQ(png.type(), CV_8UC3);
    EXPECT_GT(cv::countNonZero(png.reshape(1) != 255), 1000);
    options.methods = {"nonsense"};
    EXPECT_THROW(evaluateMethods(*model, options, progress), Error);
}

}  // namespace
