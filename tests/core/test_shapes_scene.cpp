// Shapes-in-clutter scenes: determinism, ground truth consistent with the pixels, class balance.
#include "core/data/shapes_scene.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <cstdint>

namespace {

using fovea::generateScene;
using fovea::Scene;
using fovea::SceneOptions;

// FNV-1a over the bytes of a continuous matrix: a fingerprint that changes with any pixel.
std::uint64_t fingerprint(const cv::Mat& mat) {
    EXPECT_TRUE(mat.isContinuous());
    std::uint64_t hash = 1469598103934665603ull;
    const auto* bytes = mat.ptr<unsigned char>();
    for (std::size_t i = 0; i < mat.total() * mat.elemSize(); ++i) {
        hash = (hash ^ bytes[i]) * 1099511628211ull;
    }
    return hash;
}

TEST(ShapesScene, SameSeedSameScene) {
    for (std::uint64_t seed : {0ull, 7ull, 123456789ull}) {
        const Scene a = generateScene(seed);
        const Scene b = generateScene(seed);
        EXPECT_EQ(fingerprint(a.image), fingerprint(b.image));
        EXPECT_EQ(fingerprint(a.labelMask), fingerprint(b.labelMask));
        EXPECT_EQ(a.label, b.label);
        EXPECT_EQ(a.objects.size(), b.objects.size());
    }
}

TEST(ShapesScene, DifferentSeedsDiffer) {
    EXPECT_NE(fingerprint(generateScene(1).image), fingerprint(generateScene(2).image));
}

TEST(ShapesScene, GroundTruthMatchesTheObjects) {
    const SceneOptions options;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const Scene scene = generateScene(seed, options);
        ASSERT_EQ(scene.image.rows, options.size);
        ASSERT_EQ(scene.image.cols, options.size);
        ASSERT_GE(int(scene.objects.size()), 1 + options.minDistractors);
        ASSERT_LE(int(scene.objects.size()), 1 + options.maxDistractors);
        ASSERT_TRUE(scene.objects[0].isTarget);
        EXPECT_EQ(scene.objects[0].shapeClass, scene.label);
        for (std::size_t i = 1; i < scene.objects.size(); ++i) EXPECT_FALSE(scene.objects[i].isTarget);

        // The target is drawn last, so it is fully visible, inside the image, and big.
        const int targetPixels = cv::countNonZero(scene.targetMask);
        EXPECT_GT(targetPixels, 0.4 * options.targetMinSize * options.targetMinSize) << "seed " << seed;
        EXPECT_EQ(scene.targetBox, cv::boundingRect(scene.targetMask)) << "seed " << seed;
        EXPECT_EQ((scene.targetBox & cv::Rect(0, 0, options.size, options.size)), scene.targetBox);

        // Masks are disjoint and agree with the label mask.
        for (std::size_t i = 0; i < scene.objects.size(); ++i) {
            const cv::Mat1b& mask = scene.objects[i].mask;
            const cv::Mat1b fromLabels = scene.labelMask == std::uint16_t(i + 1);
            EXPECT_EQ(cv::countNonZero(mask != fromLabels), 0) << "seed " << seed << " object " << i;
            if (cv::countNonZero(mask) > 0) {
                EXPECT_EQ(scene.objects[i].box, cv::boundingRect(mask));
            }
            // Each distractor is much smaller than the target.
            if (i > 0) {
                EXPECT_LT(cv::countNonZero(mask), targetPixels) << "seed " << seed;
            }
        }
        // The target's pixels carry its colour.
        const cv::Vec3b colour = scene.objects[0].color;
        int matching = 0;
        for (int y = 0; y < options.size; ++y) {
            for (int x = 0; x < options.size; ++x) {
                if (scene.targetMask(y, x) != 0 && scene.image(y, x) == colour) ++matching;
            }
        }
        EXPECT_GT(matching, targetPixels * 9 / 10) << "seed " << seed;
    }
}

TEST(ShapesScene, LabelsAreBalanced) {
    const int classes = int(fovea::shapeClassNames().size());
    ASSERT_EQ(classes, 5);
    std::array<int, 5> counts{};
    const int scenes = 2000;
    for (int seed = 0; seed < scenes; ++seed) ++counts[std::size_t(generateScene(std::uint64_t(seed)).label)];
    for (int c = 0; c < classes; ++c) {
        // Binomial(2000, 0.2): sd ~ 18; 5 sd either way.
        EXPECT_NEAR(counts[std::size_t(c)], scenes / classes, 90) << fovea::shapeClassNames()[std::size_t(c)];
    }
}

TEST(ShapesScene, OtherSizesAndPlainBackground) {
    SceneOptions options;
    options.size = 96;
    options.targetMinSize = 30;
    options.targetMaxSize = 40;
    options.texturedBackground = false;
    const Scene scene = generateScene(5, options);
    EXPECT_EQ(scene.image.size(), cv::Size(96, 96));
    // A plain background is one colour everywhere no object is.
    const cv::Mat1b background = scene.labelMask == 0;
    cv::Mat3b image = scene.image;
    cv::Vec3b first{};
    bool have = false;
    bool uniform = true;
    for (int y = 0; y < 96; ++y) {
        for (int x = 0; x < 96; ++x) {
            if (!background(y, x)) continue;
            if (!have) first = image(y, x), have = true;
            uniform = uniform && image(y, x) == first;
        }
    }
    EXPECT_TRUE(have);
    EXPECT_TRUE(uniform);
}

TEST(ShapesScene, InvalidOptionsAreClearErrors) {
    SceneOptions tooSmall;
    tooSmall.size = 8;
    EXPECT_THROW(generateScene(1, tooSmall), fovea::Error);
    SceneOptions targetTooBig;
    targetTooBig.targetMaxSize = 200;
    EXPECT_THROW(generateScene(1, targetTooBig), fovea::Error);
    SceneOptions distractorsTooBig;
    distractorsTooBig.distractorMaxSize = distractorsTooBig.targetMinSize;
    try {
        generateScene(1, distractorsTooBig);
        FAIL() << "expected an error";
    } catch (const fovea::Error& error) {
        EXPECT_NE(std::string(error.what()).find("distractor"), std::string::npos) << error.what();
    }
}

}  // namespace
