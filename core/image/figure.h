// Heatmap-over-image figures for the CLI: the model's view of the image with a patch-grid
// heatmap blended on top, a colorbar with its value range, and an optional title.
//
//     fovea::FigureOptions options;
//     options.title = "rollout, layer 12";
//     cv::Mat figure = fovea::renderHeatmapFigure(modelView, rollout14x14, options);
//     fovea::writeImage("rollout.png", figure);
//
// NaN cells in the heatmap are "masked": the image shows through unblended there.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace fovea {

struct FigureOptions {
    std::string colormap = "viridis";
    float opacity = 0.5f;   // weight of the heatmap colour in the blend, 0..1
    bool smooth = false;    // bilinear instead of nearest upsampling of the patch grid
    bool autoRange = true;  // colour range from the finite heatmap values, else [low, high]
    float low = 0.0f, high = 1.0f;
    std::string title;      // drawn above the image when not empty
    bool colorbar = true;
    int minSide = 384;      // small images are enlarged by a whole factor to at least this side
};

struct ValueRange {
    float low = 0.0f, high = 1.0f;
};

// The colour range a figure uses: min/max of the finite values with autoRange (0..1 when there
// are none), otherwise [options.low, options.high].
ValueRange heatmapRange(const cv::Mat& heatmap, const FigureOptions& options);

// `image` (8-bit BGR, or grey) blended with the colour-mapped `heatmap` (CV_32F, rows x cols
// patch grid, stretched over the whole image): result = (1 - opacity) * image + opacity * colour,
// rounded, same size as `image`. Throws fovea::Error for empty inputs, other types, an opacity
// outside 0..1 or an unknown colormap.
cv::Mat overlayHeatmap(const cv::Mat& image, const cv::Mat& heatmap, const FigureOptions& options);

// The full figure, 8-bit BGR on white: optional title line, the overlay (enlarged to minSide if
// needed) and, on the right, a colorbar labelled with the range's min and max.
cv::Mat renderHeatmapFigure(const cv::Mat& image, const cv::Mat& heatmap,
                            const FigureOptions& options);

}  // namespace fovea
