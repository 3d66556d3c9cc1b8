// Colormap tables and value mapping against matplotlib.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/image/colormap.h"
#include "core/util/error.h"

namespace {

struct Entry {
    const char* name;
    int index;
    int red, green, blue;
};

// Printed by matplotlib 3.6.3 on Debian bookworm: colormaps[name](index, bytes=True)[:3].
const Entry kMatplotlibEntries[] = {
    {"viridis", 0, 68, 1, 84},      {"viridis", 1, 68, 2, 85},     {"viridis", 64, 58, 82, 139},
    {"viridis", 127, 32, 143, 140}, {"viridis", 128, 32, 144, 140}, {"viridis", 200, 112, 206, 86},
    {"viridis", 254, 250, 230, 34}, {"viridis", 255, 253, 231, 36}, {"magma", 0, 0, 0, 3},
    {"magma", 128, 182, 54, 121},   {"magma", 255, 251, 252, 191},  {"inferno", 0, 0, 0, 3},
    {"inferno", 128, 187, 55, 84},  {"inferno", 255, 252, 254, 164}, {"plasma", 0, 12, 7, 134},
    {"plasma", 128, 203, 71, 119},  {"plasma", 255, 239, 248, 33},  {"cividis", 0, 0, 34, 77},
    {"cividis", 128, 124, 123, 120}, {"cividis", 255, 253, 231, 55}, {"turbo", 0, 48, 18, 59},
    {"turbo", 64, 40, 187, 235},    {"turbo", 128, 164, 252, 59},   {"turbo", 255, 122, 4, 2},
    {"gray", 0, 0, 0, 0},           {"gray", 127, 127, 127, 127},   {"gray", 255, 255, 255, 255},
};

double luminance(const cv::Vec3b& rgb) {
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
}

TEST(Colormap, AllSevenNamesPresent) {
    const std::vector<std::string> expected{"viridis", "magma",  "inferno", "plasma",
                                            "cividis", "turbo", "gray"};
    EXPECT_EQ(fovea::colormapNames(), expected);
    for (const std::string& name : expected) EXPECT_TRUE(fovea::isColormapName(name)) << name;
    EXPECT_FALSE(fovea::isColormapName("jet"));
    EXPECT_FALSE(fovea::isColormapName(""));
}

TEST(Colormap, EntriesMatchMatplotlib) {
    for (const Entry& entry : kMatplotlibEntries) {
        const cv::Vec3b rgb = fovea::colormapColor(entry.name, entry.index);
        EXPECT_EQ(rgb, cv::Vec3b(entry.red, entry.green, entry.blue))
            << entry.name << "[" << entry.index << "]";
    }
}

// Rounding to 8 bits makes a few single steps dip by a fraction of a level, so single steps
// may not drop by more than half a level and every second entry must be strictly brighter.
TEST(Colormap, ViridisLuminanceIsMonotone) {
    for (int index = 1; index < 256; ++index) {
        const double step = luminance(fovea::colormapColor("viridis", index)) -
                            luminance(fovea::colormapColor("viridis", index - 1));
        EXPECT_GT(step, -0.5) << "index " << index;
        if (index >= 2) {
            EXPECT_GT(luminance(fovea::colormapColor("viridis", index)),
                      luminance(fovea::colormapColor("viridis", index - 2)))
                << "index " << index;
        }
    }
}

TEST(Colormap, UnknownNameAndBadIndexThrow) {
    EXPECT_THROW(fovea::colormapColor("jet", 0), fovea::Error);
    EXPECT_THROW(fovea::applyColormap(cv::Mat1f(2, 2, 0.0f), "Viridis", 0, 1), fovea::Error);
    EXPECT_THROW(fovea::colormapColor("viridis", 256), fovea::Error);
    EXPECT_THROW(fovea::colormapColor("viridis", -1), fovea::Error);
    try {
        fovea::colormapColor("jet", 0);
    } catch (const fovea::Error& error) {
        EXPECT_NE(std::string(error.what()).find("jet"), std::string::npos);
    }
}

// Indices matplotlib 3.6.3 picked for float32 values with Normalize(0, 1) (values clipped first).
TEST(Colormap, IndexFollowsMatplotlibTruncation) {
    const float values[] = {-0.5f, 0.0f, 0.0039f, 0.004f, 0.25f, 0.5f,
                            0.99f, 0.996f, 0.9961f, 1.0f, 1.5f};
    const int expected[] = {0, 0, 0, 1, 64, 128, 253, 254, 255, 255, 255};
    for (std::size_t i = 0; i < std::size(values); ++i) {
        EXPECT_EQ(fovea::colormapIndex(values[i], 0.0, 1.0), expected[i]) << values[i];
    }
    EXPECT_EQ(fovea::colormapIndex(std::numeric_limits<double>::quiet_NaN(), 0, 1), -1);
    EXPECT_EQ(fovea::colormapIndex(5.0, 2.0, 2.0), 0);  // empty range, like Normalize
}

TEST(Colormap, ApplyGivesBgrOfTheMatplotlibColour) {
    cv::Mat1f values(2, 3);
    values << -3.0f, -1.0f, 1.0f, 2.5f, std::numeric_limits<float>::quiet_NaN(), 9.0f;
    const cv::Mat colours = fovea::applyColormap(values, "turbo", -1.0f, 3.0f);
    ASSERT_EQ(colours.type(), CV_8UC3);
    ASSERT_EQ(colours.size(), values.size());
    const auto bgrOf = [](int index) {
        const cv::Vec3b rgb = fovea::colormapColor("turbo", index);
        return cv::Vec3b(rgb[2], rgb[1], rgb[0]);
    };
    EXPECT_EQ(colours.at<cv::Vec3b>(0, 0), bgrOf(0));    // below low: clamped
    EXPECT_EQ(colours.at<cv::Vec3b>(0, 1), bgrOf(0));
    EXPECT_EQ(colours.at<cv::Vec3b>(0, 2), bgrOf(128));  // 0.5 * 256
    EXPECT_EQ(colours.at<cv::Vec3b>(1, 0), bgrOf(224));  // 0.875 * 256
    EXPECT_EQ(colours.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 0));  // NaN
    EXPECT_EQ(colours.at<cv::Vec3b>(1, 2), bgrOf(255));  // above high: clamped
}

TEST(Colormap, ApplyRejectsBadInput) {
    EXPECT_THROW(fovea::applyColormap(cv::Mat1b(2, 2, uchar{0}), "viridis", 0, 1), fovea::Error);
    EXPECT_THROW(fovea::applyColormap(cv::Mat1f(2, 2, 0.0f), "viridis", 1, 0), fovea::Error);
    EXPECT_THROW(fovea::applyColormap(cv::Mat1f(2, 2, 0.0f), "viridis", 0, INFINITY),
                 fovea::Error);
    EXPECT_NO_THROW(fovea::applyColormap(cv::Mat1d(2, 2, 0.5), "gray", 0, 1));
}

}  // namespace
