// Colormaps for heatmaps: matplotlib's 256-entry tables (viridis, magma, inferno, plasma, cividis,
// turbo, gray), byte for byte, so a Fovea figure and a matplotlib figure of the same values match.
//
//     cv::Mat heat(14, 14, CV_32F, ...);
//     cv::Mat bgr = fovea::applyColormap(heat, "viridis", 0.0f, 1.0f);  // CV_8UC3, 14x14
//     cv::Vec3b top = fovea::colormapColor("viridis", 255);              // RGB {253, 231, 36}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace fovea {

// The colormap names in a fixed order (for menus and --help): viridis first, gray last.
const std::vector<std::string>& colormapNames();

bool isColormapName(const std::string& name);

// Entry `index` (0..255) of the named colormap as RGB (not BGR: it is matplotlib's order).
// Throws fovea::Error for an unknown name or an index outside 0..255.
cv::Vec3b colormapColor(const std::string& name, int index);

// The table index matplotlib picks for a value: `value` is clamped to [low, high], normalised to
// [0, 1] and mapped to min(int(v * 256), 255). low == high maps everything to 0 (as
// matplotlib's Normalize does). NaN gives -1 (matplotlib's "bad" colour).
int colormapIndex(double value, double low, double high);

// Colours a single-channel CV_32F (or CV_64F) matrix of any size: CV_8UC3 BGR of the same size.
// NaN values come out black (matplotlib draws them with its transparent "bad" colour).
// Throws fovea::Error for an unknown name, another matrix type, or low > high / non-finite bounds.
cv::Mat applyColormap(const cv::Mat& values, const std::string& name, float low, float high);

namespace detail {
// The generated tables (colormap_data.cpp): 256 RGB triples, or nullptr for an unknown name.
const std::uint8_t* colormapTableRgb(const std::string& name);
}  // namespace detail

}  // namespace fovea
