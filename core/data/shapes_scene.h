// "Shapes in clutter": a procedural, fully deterministic image dataset for training Fovea's demo
// ViT and for scoring how well attention maps localise the object that decides the label.
//
// Each scene has one large TARGET shape (its class is the label) among small distractor shapes of
// any class on a low-contrast textured background, with exact per-object visibility masks.
//
//     fovea::Scene scene = fovea::generateScene(42);
//     std::string name = fovea::shapeClassNames()[scene.label];   // e.g. "star"
//     cv::Mat1b where = scene.targetMask;                          // pixels that show the target
//
// The same seed gives byte-identical images and masks on every platform: the generator uses its
// own SplitMix64 stream and integer-only geometry, never std::*_distribution or libm rounding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace fovea {

// {"circle", "square", "triangle", "cross", "star"}; a label indexes this list.
const std::vector<std::string>& shapeClassNames();

struct SceneOptions {
    int size = 64;  // the image is size x size
    int minDistractors = 3, maxDistractors = 7;
    int targetMinSize = 18, targetMaxSize = 26;     // nominal extent in pixels (circle diameter)
    int distractorMinSize = 6, distractorMaxSize = 10;
    bool texturedBackground = true;

    // Throws fovea::Error when the sizes cannot make a sensible scene (target not fitting, a
    // distractor as large as the smallest target, min > max, ...).
    void validate() const;
};

struct SceneObject {
    int shapeClass = 0;
    bool isTarget = false;
    cv::Rect box;       // bounding box of the visible pixels
    cv::Mat1b mask;     // 255 where this object is visible (after later objects), image size
    cv::Vec3b color;    // BGR
};

struct Scene {
    std::uint64_t seed = 0;
    cv::Mat3b image;                  // BGR, size x size
    int label = 0;                    // the target's class
    std::vector<SceneObject> objects; // target first, then the distractors in drawing order
    cv::Mat1b targetMask;             // = objects[0].mask
    cv::Rect targetBox;               // = objects[0].box
    cv::Mat1w labelMask;              // 0 background, i + 1 where objects[i] is visible
};

// Distractors are drawn first, the target last and fully inside the image; distractors are kept
// off the target's box. Labels are uniform over the classes across seeds.
Scene generateScene(std::uint64_t seed, const SceneOptions& options = {});

}  // namespace fovea
