// Pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016):
// a map "hits" when its maximum lies inside the ground-truth region or within a tolerance
// (15 px in the paper) of it. Accuracy is hits / (hits + misses) per class, averaged over classes.
//
//     PointingGame game(/*classes*/ 5, /*tolerancePixels*/ 15.0);
//     game.add(label, pointingHit(mapAtImageSize, targetMask, 15.0));
//     double accuracy = game.meanAccuracy();
#pragma once

#include <opencv2/core/mat.hpp>

#include <vector>

namespace fovea {

// map: CV_32F at any resolution (resized bilinearly to the mask size); mask: CV_8U, non-zero inside.
bool pointingHit(const cv::Mat& map, const cv::Mat& mask, double tolerancePixels);
// The pixel the map points at after bilinear resizing to `size` (first maximum in row-major order).
cv::Point pointedPixel(const cv::Mat& map, cv::Size size);

class PointingGame {
public:
    explicit PointingGame(int classes) : m_hits(std::size_t(classes), 0), m_total(std::size_t(classes), 0) {}
    void add(int classIndex, bool hit);
    double meanAccuracy() const;  // averaged over classes that occurred
    double overallAccuracy() const;
    int count() const;

private:
    std::vector<int> m_hits;
    std::vector<int> m_total;
};

}  // namespace fovea
