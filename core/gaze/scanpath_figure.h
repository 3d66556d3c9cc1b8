// Scanpaths drawn over their image: numbered circles whose area grows with the fixation's
// duration, arrows between consecutive fixations, colour by time (a colormap over the viewing
// time) or by subject. layoutScanpaths() computes the picture's geometry once; the CLI renders it
// with OpenCV (PNG) or as SVG text here, the GUI's painter with QPainter, so all three agree.
//
//     fovea::ScanpathStyle style;                       // colour by time, plasma
//     cv::Mat png = fovea::renderScanpathFigure(image, {modelPath, humanPath}, style);
//     std::string svg = fovea::scanpathFigureSvg(image, {modelPath}, style);
#pragma once

#include "core/gaze/gaze_data.h"

#include <limits>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace fovea {

enum class ScanpathColouring { Time, Subject };

struct ScanpathStyle {
    ScanpathColouring colouring = ScanpathColouring::Time;
    // Subject colouring: the colour index of each path (so a path keeps its colour when only some
    // are drawn); empty: the path's position in the list.
    std::vector<int> colourIndices;
    std::string colormap = "plasma";          // for Time
    double minRadius = 0.0, maxRadius = 0.0;  // image pixels; 0 => 1.5% and 4% of the longer side
    // Playback: only fixations that start at or before this time (seconds) are drawn.
    double upToTime = std::numeric_limits<double>::infinity();
    bool numbers = true;
    bool arrows = true;
    // Figures: an optional heatmap under the scanpaths (any resolution, stretched over the image).
    cv::Mat heatmap;
    float heatmapOpacity = 0.45f;
    std::string title;
    int minSide = 480;  // figures: small images are enlarged by a whole factor to at least this
};

struct FixationMark {
    cv::Point2d centre;  // image pixels
    double radius = 0.0;
    cv::Vec3b rgb;
    int number = 0;  // 1-based within its scanpath
    int path = 0;    // index of its scanpath
};

struct SaccadeArrow {
    cv::Point2d from, to;  // from the edge of one circle to the edge of the next
    cv::Vec3b rgb;
    int path = 0;
};

struct ScanpathLayout {
    std::vector<FixationMark> marks;
    std::vector<SaccadeArrow> arrows;
};

// Tableau's ten categorical colours (matplotlib's tab10), RGB; wraps around.
cv::Vec3b subjectColour(int index);

// The marks and arrows of `paths` over an image of `imageSize`. Radii are scaled so the circle's
// area is proportional to duration (the longest fixation of all paths gets maxRadius); time
// colours run over [0, the latest fixation end] of all paths.
ScanpathLayout layoutScanpaths(const std::vector<Scanpath>& paths, cv::Size imageSize, const ScanpathStyle& style);

// The image (8-bit BGR or grey) with the heatmap blended under and the scanpaths on top, enlarged
// to style.minSide, with the title above it when there is one. 8-bit BGR.
cv::Mat renderScanpathFigure(const cv::Mat& image, const std::vector<Scanpath>& paths, const ScanpathStyle& style);

// The same figure as SVG: the (heatmap-blended) image embedded as PNG, circles, arrows and
// numbers as vectors.
std::string scanpathFigureSvg(const cv::Mat& image, const std::vector<Scanpath>& paths, const ScanpathStyle& style);

}  // namespace fovea
