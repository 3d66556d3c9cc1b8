// Heatmap overlays and figures.
//
// Set FOVEA_TEST_OUTPUT_DIR to also write the rendered figure there for a visual check.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>

#include "core/image/colormap.h"
#include "core/image/figure.h"
#include "core/io/image_io.h"
#include "core/util/error.h"

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const cv::Vec3b kImageColour(40, 90, 200);  // BGR

cv::Vec3b bgrColour(const std::string& colormap, int index) {
    const cv::Vec3b rgb = fovea::colormapColor(colormap, index);
    return {rgb[2], rgb[1], rgb[0]};
}

cv::Vec3b blend(const cv::Vec3b& image, const cv::Vec3b& colour, double opacity) {
    cv::Vec3b mixed;
    for (int c = 0; c < 3; ++c) {
        mixed[c] = static_cast<uchar>(std::lround((1.0 - opacity) * image[c] + opacity * colour[c]));
    }
    return mixed;
}

// Every pixel of the w x h block at (x, y) equals `expected`.
void expectBlock(const cv::Mat& image, cv::Rect block, const cv::Vec3b& expected) {
    for (int y = block.y; y < block.br().y; ++y) {
        for (int x = block.x; x < block.br().x; ++x) {
            ASSERT_EQ(image.at<cv::Vec3b>(y, x), expected) << "at " << x << "," << y;
        }
    }
}

TEST(Figure, HotCellGetsTheTopColourBlendedAtTheOpacity) {
    const cv::Mat image(64, 64, CV_8UC3, cv::Scalar(kImageColour));
    cv::Mat1f heatmap(2, 2);
    heatmap << 0.0f, 0.0f, 0.0f, 3.0f;  // bottom-right is hot
    fovea::FigureOptions options;
    options.opacity = 0.6f;
    const cv::Mat overlay = fovea::overlayHeatmap(image, heatmap, options);
    ASSERT_EQ(overlay.size(), image.size());
    ASSERT_EQ(overlay.type(), CV_8UC3);
    const double opacity = options.opacity;
    expectBlock(overlay, {32, 32, 32, 32}, blend(kImageColour, bgrColour("viridis", 255), opacity));
    expectBlock(overlay, {0, 0, 32, 32}, blend(kImageColour, bgrColour("viridis", 0), opacity));
    expectBlock(overlay, {32, 0, 32, 32}, blend(kImageColour, bgrColour("viridis", 0), opacity));
    expectBlock(overlay, {0, 32, 32, 32}, blend(kImageColour, bgrColour("viridis", 0), opacity));
}

TEST(Figure, NanCellsLeaveTheImageUntouched) {
    cv::Mat image(48, 48, CV_8UC3);
    cv::randu(image, 0, 256);
    cv::Mat1f heatmap(2, 2);
    heatmap << kNaN, 0.2f, 0.7f, 1.0f;
    for (const bool smooth : {false, true}) {
        fovea::FigureOptions options;
        options.smooth = smooth;
        options.colormap = "magma";
        const cv::Mat overlay = fovea::overlayHeatmap(image, heatmap, options);
        EXPECT_EQ(cv::norm(overlay(cv::Rect(0, 0, 24, 24)), image(cv::Rect(0, 0, 24, 24)),
                           cv::NORM_INF),
                  0.0)
            << "smooth " << smooth;
        EXPECT_GT(cv::norm(overlay(cv::Rect(24, 24, 24, 24)), image(cv::Rect(24, 24, 24, 24)),
                           cv::NORM_INF),
                  0.0);
    }
}

TEST(Figure, FixedRangeAndAutoRange) {
    cv::Mat1f heatmap(1, 3);
    heatmap << -1.0f, kNaN, 4.0f;
    fovea::FigureOptions options;
    const fovea::ValueRange automatic = fovea::heatmapRange(heatmap, options);
    EXPECT_EQ(automatic.low, -1.0f);
    EXPECT_EQ(automatic.high, 4.0f);
    const fovea::ValueRange none = fovea::heatmapRange(cv::Mat1f(2, 2, kNaN), options);
    EXPECT_EQ(none.low, 0.0f);
    EXPECT_EQ(none.high, 1.0f);

    options.autoRange = false;
    options.low = -2.0f;
    options.high = 2.0f;
    options.opacity = 1.0f;
    options.colormap = "gray";
    const cv::Mat overlay =
        fovea::overlayHeatmap(cv::Mat(1, 3, CV_8UC3, cv::Scalar(0, 0, 0)), heatmap, options);
    EXPECT_EQ(overlay.at<cv::Vec3b>(0, 0), cv::Vec3b(64, 64, 64));  // (-1 + 2) / 4 * 256
    EXPECT_EQ(overlay.at<cv::Vec3b>(0, 1), cv::Vec3b(0, 0, 0));     // NaN: image
    EXPECT_EQ(overlay.at<cv::Vec3b>(0, 2), cv::Vec3b(255, 255, 255));
}

TEST(Figure, FigureIsEnlargedAndHasAColorbar) {
    const cv::Mat image(32, 32, CV_8UC3, cv::Scalar(kImageColour));
    cv::Mat1f heatmap(4, 4, 0.0f);
    heatmap(1, 2) = 1.0f;
    fovea::FigureOptions options;
    const cv::Mat figure = fovea::renderHeatmapFigure(image, heatmap, options);
    ASSERT_EQ(figure.type(), CV_8UC3);
    // 32 px enlarged by a whole factor to 384, plus margins, plus a colorbar with labels.
    EXPECT_GE(figure.rows, 384);
    EXPECT_GT(figure.cols, 384 + 14 + 30);

    options.colorbar = false;
    const cv::Mat bare = fovea::renderHeatmapFigure(image, heatmap, options);
    EXPECT_EQ(bare.rows, figure.rows);
    EXPECT_LT(bare.cols, figure.cols);
    options.title = "attention rollout";
    const cv::Mat titled = fovea::renderHeatmapFigure(image, heatmap, options);
    EXPECT_GT(titled.rows, bare.rows);

    // The enlargement keeps patch cells sharp: a cell is 96 x 96 figure pixels of one colour.
    options.title.clear();
    const cv::Mat overlay = fovea::overlayHeatmap(
        cv::Mat(384, 384, CV_8UC3, cv::Scalar(kImageColour)), heatmap, options);
    const int margin = (bare.cols - 384) / 2;
    EXPECT_EQ(cv::norm(bare(cv::Rect(margin, margin, 384, 384)), overlay, cv::NORM_INF), 0.0);
}

TEST(Figure, BadInputThrows) {
    const cv::Mat image(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
    fovea::FigureOptions options;
    EXPECT_THROW(fovea::overlayHeatmap(image, cv::Mat1f(), options), fovea::Error);
    EXPECT_THROW(fovea::overlayHeatmap(cv::Mat(), cv::Mat1f(2, 2, 0.0f), options), fovea::Error);
    EXPECT_THROW(fovea::overlayHeatmap(image, cv::Mat1b(2, 2, uchar{0}), options), fovea::Error);
    options.opacity = 1.5f;
    EXPECT_THROW(fovea::overlayHeatmap(image, cv::Mat1f(2, 2, 0.0f), options), fovea::Error);
    options.opacity = 0.5f;
    options.colormap = "rainbow";
    EXPECT_THROW(fovea::renderHeatmapFigure(image, cv::Mat1f(2, 2, 0.0f), options), fovea::Error);
}

// Writes the figure to FOVEA_TEST_OUTPUT_DIR (for looking at it) or a temporary folder, and
// checks that what was written reads back as the rendered image.
TEST(Figure, WrittenFiguresReadBackExactly) {
    const char* requested = std::getenv("FOVEA_TEST_OUTPUT_DIR");
    const std::string directory = requested != nullptr
        ? std::string(requested)
        : (std::filesystem::temp_directory_path() / "fovea_test_figure").string();
    std::filesystem::create_directories(directory);
    const cv::Mat image =
        fovea::readImage(std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny/input.png");
    cv::Mat1f heatmap(4, 4);
    for (int row = 0; row < 4; ++row) {
        for (int col = 0; col < 4; ++col) {
            heatmap(row, col) = std::exp(-0.5f * ((row - 1.2f) * (row - 1.2f) +
                                                  (col - 2.0f) * (col - 2.0f)));
        }
    }
    heatmap(3, 0) = kNaN;
    fovea::FigureOptions options;
    options.title = "timm-vit-tiny: synthetic heatmap, masked bottom-left cell";
    const cv::Mat crisp = fovea::renderHeatmapFigure(image, heatmap, options);
    fovea::writeImage(directory + "/fovea_figure.png", crisp);
    options.smooth = true;
    options.colormap = "turbo";
    options.title = "smooth, turbo";
    const cv::Mat smooth = fovea::renderHeatmapFigure(image, heatmap, options);
    fovea::writeImage(directory + "/fovea_figure_smooth.png", smooth);
    EXPECT_EQ(cv::norm(fovea::readImage(directory + "/fovea_figure.png"), crisp, cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(fovea::readImage(directory + "/fovea_figure_smooth.png"), smooth, cv::NORM_INF), 0.0);
}

}  // namespace
