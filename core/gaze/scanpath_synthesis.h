// Scanpaths from a saliency map (any heatmap Fovea computes): pixel-level winner-take-all with
// inhibition of return (Itti, Koch & Niebur, "A model of saliency-based visual attention for
// rapid scene analysis", TPAMI 1998; Walther & Koch's SaliencyToolbox 2006), and an object-level
// variant that visits objects or segments in the order of their attention mass, as OAT (Fang et
// al., "Object-Level Attention Transformer for Gaze Scanpath Prediction", ECCV 2024) predicts
// scanpaths over objects rather than pixels.
//
//     fovea::WtaOptions options;
//     options.fixations = 6;
//     options.radius = 20.0;                                    // inhibition of return, pixels
//     options.inhibition = fovea::Inhibition::Gaussian;
//     fovea::Scanpath model = fovea::synthesizeScanpath(heatmapAtImageSize, options);
//     fovea::Scanpath objects = fovea::synthesizeObjectScanpath(heatmapAtImageSize, scene.labelMask);
//     int needed = fovea::fixationsToTarget(model, scene.targetMask);   // 1 = first fixation
#pragma once

#include "core/gaze/gaze_data.h"

#include <opencv2/core.hpp>

namespace fovea {

enum class Inhibition {
    Disk,      // the disk of `radius` around each fixation is zeroed
    Gaussian,  // the map is multiplied by 1 − exp(−d² / 2σ²), σ = radius / 2
};

struct WtaOptions {
    int fixations = 8;
    double radius = 0.0;  // pixels; 0 => max(width, height) / 10 (Itti's code; SaliencyToolbox uses / 6)
    Inhibition inhibition = Inhibition::Disk;
    // Share of each older inhibition that wears off after every new fixation (0: inhibition is
    // permanent; 1: only the last fixation is inhibited), so places can be revisited.
    double decay = 0.0;
    // Durations grow with the local saliency: minDuration + (maxDuration − minDuration) × the
    // mean of the map (scaled to [0, 1]) within `radius` of the fixation.
    double minDuration = 0.1, maxDuration = 0.5;  // seconds
};

// Winner-take-all with inhibition of return on `map` (CV_32F, the image's size; values are
// shifted to start at zero). Each step fixates the map's maximum (the first in row-major order on
// ties) at the pixel's centre, then inhibits around it. Stops early when everything left is zero.
Scanpath synthesizeScanpath(const cv::Mat1f& map, const WtaOptions& options = {});

// How objects are ranked: by attention mass (the map summed over the object, as OAT orders
// objects), or by mean attention per pixel (mass / area), which does not favour large objects.
enum class ObjectRanking { Mass, MeanAttention };

struct ObjectScanpathOptions {
    int fixations = 0;  // 0: every object with attention mass, once
    ObjectRanking ranking = ObjectRanking::Mass;
    double minDuration = 0.1, maxDuration = 0.5;  // seconds; scaled by each object's score / the largest
};

// Fixates objects in decreasing order of attention mass (or mean attention), each at
// its attention-weighted centroid; Fixation::object is the object's index (label − 1 for label
// masks, the box's index for boxes). `labels`: 0 background, 1..K objects, the map's size.
Scanpath synthesizeObjectScanpath(const cv::Mat1f& map, const cv::Mat& labels,
                                  const ObjectScanpathOptions& options = {});
Scanpath synthesizeObjectScanpath(const cv::Mat1f& map, const std::vector<cv::Rect2d>& boxes,
                                  const ObjectScanpathOptions& options = {});

// Visual search: the 1-based index of the first fixation on the target mask (or within
// `tolerance` pixels of it), 0 when no fixation reaches it.
int fixationsToTarget(const Scanpath& scanpath, const cv::Mat1b& target, double tolerance = 0.0);

}  // namespace fovea
